/**
 * What the app itself says to callers and to the person a call is forwarded to, in the line's language where
 * we have the words (English and Japanese, the README's examples), else in English with an English voice: a
 * Japanese voice reading English text is worse than an English one. A line's greeting is the team's own text
 * and is said in the line's language as written.
 */
export interface Phrases {
  /** the `<Say language>` these words are for */
  language: string;
  /** before the tone, unless the line has its own greeting */
  greeting: string;
  apology: string;
  goodbye: string;
  /** to the forward number's person, before they accept */
  screen: (lineNumber: string, callerNumber: string) => string;
  screenAccepted: string;
  notInService: (lineNumber: string) => string;
}

/** Digits read one by one ("8 1 5 0 …", without the plus), so a voice does not read one large number. */
export function spokenNumber(e164: string): string {
  if (e164 === '') return 'an unknown number';
  return /^\+?\d+$/.test(e164) ? e164.replace(/^\+/, '').split('').join(' ') : e164;
}

const ENGLISH: Phrases = {
  language: 'en-US',
  greeting: 'Sorry, nobody can take your call right now. Please leave a message after the tone.',
  apology: 'Sorry, nobody can take your call right now. Please try again later. Goodbye.',
  goodbye: 'Thank you for your message. Goodbye.',
  screen: (line, caller) =>
    `You have a call for the team line ${spokenNumber(line)} from ${caller === 'anonymous' ? 'a withheld number' : spokenNumber(caller)}. Press 1 to accept.`,
  screenAccepted: 'Connecting.',
  notInService: (line) => `Sorry, the number ${spokenNumber(line)} is not in service.`,
};

const JAPANESE: Phrases = {
  language: 'ja-JP',
  greeting: '申し訳ございません。ただいま電話に出ることができません。発信音のあとにメッセージをお話しください。',
  apology: '申し訳ございません。ただいま電話に出ることができません。後ほどおかけ直しください。',
  goodbye: 'メッセージをお預かりしました。失礼いたします。',
  screen: (line, caller) =>
    `チームの番号 ${spokenNumber(line)} に、${caller === 'anonymous' ? '番号非通知' : spokenNumber(caller)} から着信です。受けるには 1 を押してください。`,
  screenAccepted: 'おつなぎします。',
  notInService: (line) => `おかけになった番号 ${spokenNumber(line)} は現在使われておりません。`,
};

/** The phrases for a line's language (`ja-JP` → Japanese; anything without our words → English). */
export function phrasesFor(language: string): Phrases {
  return language.toLowerCase().startsWith('ja') ? JAPANESE : ENGLISH;
}
