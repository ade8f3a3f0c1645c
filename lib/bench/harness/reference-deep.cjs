'use strict';
// A second reference: the same unbundled node_modules, but the Twilio library imported by deep paths only
// (as the handlers do). reference.cjs minus this = what deep imports alone buy; this minus the bundle =
// what bundling, tree-shaking and minification buy on top.
const AccessToken = require('twilio/lib/jwt/AccessToken');
const VoiceResponse = require('twilio/lib/twiml/VoiceResponse');
const webhooks = require('twilio/lib/webhooks/webhooks');
const dynamodb = require('@aws-sdk/client-dynamodb');
const documentClient = require('@aws-sdk/lib-dynamodb');
const secretsManager = require('@aws-sdk/client-secrets-manager');

exports.handler = async () => [AccessToken, VoiceResponse, webhooks, dynamodb, documentClient, secretsManager].length;
