/**
 * The TwiML verbs this app answers with, written by xmlbuilder with the document options of Twilio's helper
 * (twilio/lib/twiml/TwiML.js, twilio 6.2.0): the same escaping of every attribute and text, and the same bytes as
 * `VoiceResponse` for the same calls (test/lambda/twiml-builder.test.ts compares them, fixed cases and a property).
 *
 * Why not `VoiceResponse` itself: each of its elements (`Dial`, `Client`, `Identity`, `Parameter`, …) is a TwiML
 * object whose constructor creates a whole xmlbuilder document of its own and never uses it, about 12 KB of
 * garbage per element. An incoming call's answer made ten of them: most of a webhook's allocations, and the GC
 * pauses that made its warm p99 (docs/performance.md). Here one document is created per answer, and each verb is
 * one `ele` on it, as in Twilio's classes. Attribute types are Twilio's (type-only import).
 */
import type VoiceResponse from 'twilio/lib/twiml/VoiceResponse';
import { create, type XMLElement } from 'xmlbuilder';

/**
 * Twilio's document options, as TwiML.js passes them to `xmlbuilder.create`: a list attribute (e.g.
 * `statusCallbackEvent`) is joined with spaces, and every value is escaped with xmlbuilder's `attEscape`.
 */
const TWILIO_DOCUMENT_OPTIONS = {
  stringify: {
    attValue(this: { attEscape?: (value: string) => string }, value: unknown): string {
      const joined = Array.isArray(value) ? value.join(' ') : value;
      return this.attEscape?.(`${joined}` || '') || '';
    },
  },
};

/** `<Response>`: a TwiML document. */
export class TwimlResponse {
  private readonly xml = create('Response', TWILIO_DOCUMENT_OPTIONS).dec('1.0', 'UTF-8');

  dial(attributes: VoiceResponse.DialAttributes): TwimlDial {
    return new TwimlDial(this.xml.ele('Dial', attributes));
  }

  gather(attributes: VoiceResponse.GatherAttributes): TwimlGather {
    return new TwimlGather(this.xml.ele('Gather', attributes));
  }

  hangup(): void {
    this.xml.ele('Hangup', {});
  }

  pause(attributes: VoiceResponse.PauseAttributes): void {
    this.xml.ele('Pause', attributes);
  }

  record(attributes: VoiceResponse.RecordAttributes): void {
    this.xml.ele('Record', attributes);
  }

  redirect(attributes: VoiceResponse.RedirectAttributes, url: string): void {
    this.xml.ele('Redirect', attributes, url);
  }

  say(attributes: VoiceResponse.SayAttributes, message: string): void {
    this.xml.ele('Say', attributes, message);
  }

  /** The XML, with its declaration, as Twilio's `toString()` writes it. */
  toString(): string {
    return this.xml.end();
  }
}

/** `<Dial>`: who or what the call is connected to. */
export class TwimlDial {
  constructor(private readonly xml: XMLElement) {}

  client(attributes: VoiceResponse.ClientAttributes): TwimlClient {
    return new TwimlClient(this.xml.ele('Client', attributes));
  }

  number(attributes: VoiceResponse.NumberAttributes, phoneNumber: string): void {
    this.xml.ele('Number', attributes, phoneNumber);
  }
}

/** `<Client>`: a softphone, named by its `<Identity>`, with custom `<Parameter>`s. */
export class TwimlClient {
  constructor(private readonly xml: XMLElement) {}

  identity(clientIdentity: string): void {
    this.xml.ele('Identity', {}, clientIdentity);
  }

  parameter(attributes: VoiceResponse.ParameterAttributes): void {
    this.xml.ele('Parameter', attributes);
  }
}

/** `<Gather>`: digits pressed while its `<Say>` plays. */
export class TwimlGather {
  constructor(private readonly xml: XMLElement) {}

  say(attributes: VoiceResponse.SayAttributes, message: string): void {
    this.xml.ele('Say', attributes, message);
  }
}
