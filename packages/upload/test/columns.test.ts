import { describe, expect, it } from 'vitest';
import { detectPhoneColumns, openUpload, PhoneHeaderScore, scorePhoneHeader } from '../src/index.js';
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
    // The spellings (#14), any case, spacing or punctuation.
    ['cell', EXACT],
    ['CELL', EXACT],
    ['PHONE', EXACT],
    ['Mobile Number', EXACT],
    ['mobile-number', EXACT],
    ['whatsapp', EXACT],
    ['WHATSAPP', EXACT],
    ['work phone', MENTIONS_PHONE],
    ['Work_Phone', MENTIONS_PHONE],
    ['WorkPhone', MENTIONS_PHONE],
    ['workphone', MENTIONS_PHONE],
    ['home phone', MENTIONS_PHONE],
    ['HOME-PHONE', MENTIONS_PHONE],
    ['homephone', MENTIONS_PHONE],
    ['Business Phone', MENTIONS_PHONE],
    ['Other Phone', MENTIONS_PHONE],
    ['alternatephone', MENTIONS_PHONE],
    ['phone 1', MENTIONS_PHONE],
    ['Phone 2', MENTIONS_PHONE],
    ['phone_3', MENTIONS_PHONE],
    ['Phone3', MENTIONS_PHONE],
    ['Telefon 2', MENTIONS_PHONE],
    ['telefon_3', MENTIONS_PHONE],
    ['Mobile 2', MENTIONS_PHONE],
    ['Landline', EXACT],
    ['PHONE_SHA256', MENTIONS_PHONE],
    // Somebody else's phone, or not a phone: never a candidate.
    ['Fax', NONE],
    ['Fax Number', NONE],
    ['Business Fax', NONE],
    ['Pager', NONE],
    ['Emergency contact phone', NONE],
    ['Emergency Phone', NONE],
    ['Assistant Phone', NONE],
    ['AssistantPhone', NONE],
    ['Spouse mobile', NONE],
    ['Parent phone', NONE],
    ['Guardian Phone Number', NONE],
    ['Manager phone', NONE],
    ['Agent number', NONE],
    ['Account Owner Phone', NONE],
    ['Referrer phone', NONE],
    ['Phone ID', NONE],
    ['MOBILE_ADVERTISER_ID', NONE],
    ['Mobile device ID', NONE],
    ['Phone country code', NONE],
    ['Phone type', NONE],
    ['Mobile opt-in', NONE],
    // Glued words are split only into known words.
    ['smartphone', NONE],
    ['homeland', NONE],
  ])('%j → %i', (header, score) => {
    expect(scorePhoneHeader(header)).toBe(score);
  });
});

describe('detectPhoneColumns', () => {
  it.each([
    [['first_name', 'Phone Number', 'email'], [1]],
    [['id', 'MSISDN'], [1]],
    [['name', 'mobile_phone', 'hotel', 'cancelled'], [1]],
    [
      ['Home Phone', 'Mobile', 'Work Phone'],
      [0, 1, 2],
    ],
    [['Phone', 'Phone Type', 'Phone Verified'], [0]],
    [['Number', 'name'], [0]],
    [['Number', 'Contact Number'], [1]],
    [['Customer Number', 'tel'], [1]],
    [
      ['Phone 1', 'Phone 2'],
      [0, 1],
    ],
    [
      ['Phone', 'Mobile'],
      [0, 1],
    ],
    [
      ['phone', 'PHONE'],
      [0, 1],
    ],
    [['Number', 'phone', 'No.'], [1]],
    // Meta's customer-file headers: up to three `phone` columns.
    [
      ['email', 'phone', 'phone', 'phone', 'country'],
      [1, 2, 3],
    ],
    [
      ['Name', 'Phone', 'Fax', 'Mobile', 'Emergency contact phone', 'Assistant Phone', 'Work Phone'],
      [1, 3, 6],
    ],
    [['Phone', 'Phone country code', 'Country'], [0]],
  ])('%j → %j', (headers, indexes) => {
    expect(detectPhoneColumns(headers)).toEqual(indexes);
  });

  it.each([
    [['first_name', 'hotel', 'cancelled'], 'no phone column'],
    [[], 'no phone column'],
    [['Fax', 'Emergency contact phone', 'Phone type'], 'no phone column'],
    [['Number', 'No.'], 'several columns'],
  ])('%j → ERR_BAD_INPUT at line 1 listing the headers', (headers, why) => {
    const error = (() => {
      try {
        detectPhoneColumns(headers, { file: 'up.csv' });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toEqual(coded('ERR_BAD_INPUT', { position: { file: 'up.csv', line: 1 } }));
    expect(error!.message).toContain(why);
    expect(error!.message).toContain('--phone-column');
    for (const h of headers) expect(error!.message).toContain(JSON.stringify(h));
  });

  it('an error about headers without a line (a payload schema) names only the file', () => {
    expect(() => detectPhoneColumns(['EMAIL'], { file: 'p.json', line: null })).toThrow(
      expect.objectContaining({ code: 'ERR_BAD_INPUT', position: { file: 'p.json' } }),
    );
  });

  it.each([
    ['Phone Number', [1]],
    ['  phone number ', [1]],
    ['HOTEL', [2]],
    ['email', [3]],
    [
      ['email', 'Phone Number'],
      [1, 3],
    ],
    [['hotel'], [2]],
    [['Fax'], [4]],
  ])(
    'the phoneColumn option %j picks its headers whatever the scores, in header order',
    (phoneColumn, indexes) => {
      expect(
        detectPhoneColumns(['first_name', 'Phone Number', 'hotel', 'email', 'Fax'], { phoneColumn }),
      ).toEqual(indexes);
    },
  );

  it.each([
    ['mobile', 'has no column'],
    ['', 'empty'],
    [['phone', 'mobile'], 'has no column'],
    [['phone', ' '], 'empty'],
    [[], 'non-empty list'],
    [['phone', 'PHONE'], 'second time'],
  ])('a bad phoneColumn %j is ERR_INVALID_ARGUMENT', (phoneColumn, why) => {
    expect(() => detectPhoneColumns(['name', 'phone'], { phoneColumn, file: 'up.csv' })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARGUMENT',
        option: 'phoneColumn',
        message: expect.stringContaining(why),
      }),
    );
  });

  it('a phoneColumn naming two columns is ERR_INVALID_ARGUMENT', () => {
    expect(() => detectPhoneColumns(['phone', 'Phone'], { phoneColumn: 'PHONE' })).toThrow(
      coded('ERR_INVALID_ARGUMENT', { option: 'phoneColumn' }) as Error,
    );
  });

  it('never shows a phone number found where a header should be', () => {
    const error = (() => {
      try {
        detectPhoneColumns(['Ann', '+44 7400 123456', 'ann@example.com']);
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
    expect(reader.phoneColumns).toEqual([0]);
    expect(reader.countryColumn).toBe(null);
  });
});
