/**
 * The team directory: the client of `POST {apiBaseUrl}/softphone/directory` (the signed-in device's line, its
 * settings and its members), and what the page shows of it: the teammates one can call (everyone on the line
 * but oneself) and the line's status in words. No DOM here.
 */
import { API_PATHS } from '../../lambda/core/paths';
import { field, type PageApi } from './page-api';
import { isClientName } from './token-client';

export interface TeamMember {
  clientName: string;
  label?: string;
}

export interface LineInfo {
  /** E.164 */
  number: string;
  voicemail: boolean;
  forwarding: boolean;
  /** e.g. `Mon-Fri 09:00-18:00`; absent when the line takes calls at all hours */
  hours?: string;
  timeZone?: string;
}

export interface Directory {
  /** the signed-in device's identity */
  you: string;
  line: LineInfo;
  /** every device of the line, in ring order, yourself included */
  members: TeamMember[];
}

export function parseDirectory(body: Record<string, unknown>): Directory {
  const line = field.object(body, 'line');
  const hours = field.optionalString(line, 'hours');
  const timeZone = field.optionalString(line, 'timeZone');
  const members = field.array(body, 'members').map((m) => {
    const clientName = field.string(m, 'clientName');
    if (!isClientName(clientName)) throw new Error('clientName is not a client name');
    const label = field.optionalString(m, 'label')?.trim();
    return label ? { clientName, label } : { clientName };
  });
  return {
    you: field.string(body, 'you'),
    line: {
      number: field.string(line, 'number'),
      voicemail: field.boolean(line, 'voicemail'),
      forwarding: field.boolean(line, 'forwarding'),
      ...(hours ? { hours } : {}),
      ...(hours && timeZone ? { timeZone } : {}),
    },
    members,
  };
}

export class DirectoryClient {
  constructor(private readonly api: PageApi) {}

  load(): Promise<Directory> {
    return this.api.post(API_PATHS.directory, {}, parseDirectory);
  }
}

/** The members one can call: everyone on the line but oneself, in the line's ring order. */
export function teammates(directory: Directory): TeamMember[] {
  return directory.members.filter((m) => m.clientName !== directory.you);
}

/** How a teammate is named on the page: `Alice (front desk)`, or just the name. */
export function memberName(member: TeamMember): string {
  return member.label ? `${member.clientName} (${member.label})` : member.clientName;
}

/** The line's status as short phrases, e.g. `Voicemail on`, `Forwarding off`, `Hours Mon-Fri 09:00-18:00 (Asia/Tokyo)`. */
export function lineStatus(line: LineInfo): string[] {
  return [
    `Voicemail ${line.voicemail ? 'on' : 'off'}`,
    `Forwarding ${line.forwarding ? 'on' : 'off'}`,
    line.hours ? `Hours ${line.hours}${line.timeZone ? ` (${line.timeZone})` : ''}` : 'Open at all hours',
  ];
}
