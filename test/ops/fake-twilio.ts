export * from '../support/fake-twilio';
