import { sdkVersion } from './voice/device';
const app = document.getElementById('app');
if (app) app.dataset.sdk = sdkVersion();
