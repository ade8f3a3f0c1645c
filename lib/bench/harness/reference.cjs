'use strict';
// The REFERENCE a bundle is compared with: a handler module loaded "the walkthrough's way", as a zip
// deployment package would hold it: the whole `twilio` package root and the AWS SDK v3 clients the
// handlers use, straight from node_modules, unbundled. Nothing is constructed at load (the entries build
// their clients lazily on the first invocation too), so both sides measure loading code only.
const twilio = require('twilio');
const dynamodb = require('@aws-sdk/client-dynamodb');
const documentClient = require('@aws-sdk/lib-dynamodb');
const secretsManager = require('@aws-sdk/client-secrets-manager');

exports.handler = async () => [twilio, dynamodb, documentClient, secretsManager].length;
