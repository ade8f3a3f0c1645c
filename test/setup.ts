/**
 * Runs before every test file: drops the AWS SDK's one-off notice about future Node.js requirements (it is
 * about SDK releases, not about this code), as the CLIs do, so test output shows only what matters.
 */
import { silenceSdkNodeVersionWarning } from '../lib/local/cli-support';

silenceSdkNodeVersionWarning();
