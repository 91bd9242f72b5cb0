import { describe, expect, it } from 'vitest';
import { detectPhoneColumn, openUpload, PhoneHeaderScore, scorePhoneHeader } from '../src/index.js';
import { coded, tempDir } from './helpers.js';

const { NONE, NUMBER_ONLY, MENTIONS_PHONE, EXACT } = PhoneHeaderScore;

describe('scorePhoneHeader', () => {
  it.each([
    ['Phone Number', EXACT],
    ['phone', EXACT],
    ['MOBILE', EXACT],
    ['msisdn', EXACT],
    ['MSISDN', EXACT],
    ['Tel.', EXACT],
    ['tel', EXACT],
    ['Telephone', EXACT],
    ['cell_phone', EXACT],
    ['cellphone', EXACT],
    ['mobile_phone', EXACT],
    ['mobilePhone', EXACT],
    ['PhoneNumber', EXACT],
    ['Phone No.', EXACT],
    ['Tel No', EXACT],
    ['WhatsApp', EXACT],
    ['Handy', EXACT],
    ['Handynummer', EXACT],
    ['Telefonnummer', EXACT],
    ['Teléfono', EXACT],
    ['Celular', EXACT],
    ['Phone #', EXACT],
    ['Phone (E164)', EXACT],
    ['\uFEFF  phone  ', EXACT],
    ['Home Phone', MENTIONS_PHONE],
    ['customer_phone', MENTIONS_PHONE],
    ['customerPhone', MENTIONS_PHONE],
    ['Phone 1', MENTIONS_PHONE],
    ['phone2', MENTIONS_PHONE],
    ['Contact Number', MENTIONS_PHONE],
    ['phone_sha256', MENTIONS_PHONE],
    ['Number', NUMBER_ONLY],
    ['No.', NUMBER_ONLY],
    ['hotel', NONE],
    ['Hotel Name', NONE],
    ['cancelled', NONE],
    ['Cancelled At', NONE],
    ['excellent', NONE],
    ['telemarketing', NONE],
    ['microphone', NONE],
    ['automobile', NONE],
    ['notes', NONE],
    ['Customer Number', NONE],
    ['Order No', NONE],
    ['email', NONE],
    ['first_name', NONE],
    ['', NONE],
    ['Phone Type', NONE],
    ['Mobile Opt-In', NONE],
    ['Phone Country Code', NONE],
    ['phone'.repeat(20), NONE],
  ])('%j → %i', (header, score) => {
    expect(scorePhoneHeader(header)).toBe(score);
  });
});

describe('detectPhoneColumn', () => {
  it.each([
    [['first_name', 'Phone Number', 'email'], 1],
    [['id', 'MSISDN'], 1],
    [['name', 'mobile_phone', 'hotel', 'cancelled'], 1],
    [['Home Phone', 'Mobile', 'Work Phone'], 1],
    [['Phone', 'Phone Type', 'Phone Verified'], 0],
    [['Number', 'name'], 0],
    [['Number', 'Contact Number'], 1],
    [['Customer Number', 'tel'], 1],
  ])('%j → %i', (headers, index) => {
    expect(detectPhoneColumn(headers)).toBe(index);
  });

  it.each([
    [['first_name', 'hotel', 'cancelled'], 'no phone column'],
    [[], 'no phone column'],
    [['Phone 1', 'Phone 2'], 'several columns'],
    [['Phone', 'Mobile'], 'several columns'],
    [['phone', 'PHONE'], 'several columns'],
  ])('%j → ERR_BAD_INPUT at line 1 listing the headers', (headers, why) => {
    const error = (() => {
      try {
        detectPhoneColumn(headers, { file: 'up.csv' });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toEqual(coded('ERR_BAD_INPUT', { position: { file: 'up.csv', line: 1 } }));
    expect(error!.message).toContain(why);
    expect(error!.message).toContain('--phone-column');
    for (const h of headers) expect(error!.message).toContain(JSON.stringify(h));
  });

  it.each([
    ['Phone Number', 1],
    ['  phone number ', 1],
    ['HOTEL', 2],
    ['email', 3],
  ])('the phoneColumn option %j picks its header whatever the scores', (phoneColumn, index) => {
    expect(detectPhoneColumn(['first_name', 'Phone Number', 'hotel', 'email'], { phoneColumn })).toBe(index);
  });

  it.each([
    ['mobile', 'has no column'],
    ['', 'empty'],
  ])('an unknown or empty phoneColumn %j is ERR_INVALID_ARGUMENT listing the headers', (phoneColumn, why) => {
    expect(() => detectPhoneColumn(['name', 'phone'], { phoneColumn, file: 'up.csv' })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARGUMENT',
        option: 'phoneColumn',
        message: expect.stringContaining(why),
      }),
    );
  });

  it('a phoneColumn naming two columns is ERR_INVALID_ARGUMENT', () => {
    expect(() => detectPhoneColumn(['phone', 'Phone'], { phoneColumn: 'PHONE' })).toThrow(
      coded('ERR_INVALID_ARGUMENT', { option: 'phoneColumn' }) as Error,
    );
  });

  it('never shows a phone number found where a header should be', () => {
    const error = (() => {
      try {
        detectPhoneColumn(['Ann', '+44 7400 123456', 'ann@example.com']);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error!.message).not.toContain('7400 123456');
    expect(error!.message).toContain('"+44 7•••••56"');
  });
});

describe('in a file', () => {
  const tmp = tempDir();

  it('the error names the header line', async () => {
    const file = tmp.write('no-phone.csv', '\n\nname,hotel\na,1\n');
    await expect(openUpload(file)).rejects.toEqual(coded('ERR_BAD_INPUT', { position: { file, line: 3 } }));
  });

  it('a BOM before the header does not hide it', async () => {
    const reader = await openUpload(tmp.write('bom.csv', '\uFEFFphone,name\n1,a\n'));
    expect(reader.headers).toEqual(['phone', 'name']);
    expect(reader.phoneColumn).toBe(0);
  });
});
