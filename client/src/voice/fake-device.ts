export function sdkVersion(): string {
  (window as unknown as Record<string, unknown>).__softphoneTest = {};
  return 'fake';
}
