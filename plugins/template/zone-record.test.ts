import { expect } from 'chai';
import { rrText } from 'nodens/testing';
import { parseRecord, RecordSyntaxError } from './zone-record.js';

describe('zone-file records (what a template renders)', () => {
  const rows: [text: string, want: string][] = [
    ['ip-10-95-12-8.example. 60 IN A 10.95.12.8', 'ip-10-95-12-8.example. 60 IN A 10.95.12.8'],
    ['example. IN NS ns0.example.com.', 'example. 3600 IN NS ns0.example.com.'],
    ['example.net 60 IN CNAME target.example.com', 'example.net. 60 IN CNAME target.example.com.'],
    ['ip-10-1-2-3.example. 60 MX 10 ip-10-1-2-3.example.', 'ip-10-1-2-3.example. 60 IN MX 10 ip-10-1-2-3.example.'],
    ['invalid. 60 IN SOA ns.invalid. hostmaster.invalid. (1 60 60 60 60)', 'invalid. 60 IN SOA ns.invalid. hostmaster.invalid. 1 60 60 60 60'],
    ['example.com 60 IN SOA ns.example.com hostmaster.example.com (1 60 60 60 60)', 'example.com. 60 IN SOA ns.example.com. hostmaster.example.com. 1 60 60 60 60'],
    ['coredns.invalid. 60 CH TXT "test"', 'coredns.invalid. 60 CH TXT "test"'],
    ['a.example. IN 30 TXT "two words" bare', 'a.example. 30 IN TXT "two words" "bare"'],
    ['x.example. 60 IN AAAA 2001:db8::1 ; a comment', 'x.example. 60 IN AAAA 2001:db8::1'],
    ['_http._tcp.example. 60 IN SRV 0 100 80 web.example.', '_http._tcp.example. 60 IN SRV 0 100 80 web.example.'],
    ['4.3.2.1.in-addr.arpa. 60 IN PTR ip-1-2-3-4.example.', '4.3.2.1.in-addr.arpa. 60 IN PTR ip-1-2-3-4.example.'],
  ];
  for (const [text, want] of rows) {
    it(text, () => expect(rrText(parseRecord(text))).to.equal(want));
  }

  // from coredns plugin/template/template_test.go: NonRRTemplate (a bare name) and templates that render garbage.
  const bad: [text: string, message: RegExp][] = [
    ['test.example.', /no type/],
    ['test.example. 60 IN', /no type/],
    ['', /empty record/],
    ['x.example. 60 IN A 10.95.12', /bad A address/],
    ['x.example. 60 IN A 300.1.1.1', /bad A address/],
    ['x.example. 60 IN AAAA 10.0.0.1', /bad AAAA address/],
    ['x..example. 60 IN A 10.0.0.1', /empty label/],
    [`${'a'.repeat(64)}.example. 60 IN A 10.0.0.1`, /longer than 63/],
    [`${'abcdefghi.'.repeat(26)}example. 60 IN A 10.0.0.1`, /longer than 255/],
    ['x.example. 60 IN MX ten x.example.', /bad MX preference/],
    ['x.example. 60 IN SOA a. b. (1 2 3 4)', /SOA wants 7/],
    ['x.example. 60 IN SOA a. b. (1 2 3 4 5', /unbalanced/],
    ['x.example. 60 IN TXT "open', /unterminated/],
    ['x.example. 60 IN LOC 1 2 3', /type LOC is not supported/],
    ['a.example. 60 IN A 10.0.0.1\nb.example. 60 IN A 10.0.0.2', /more than one record/],
  ];
  for (const [text, message] of bad) {
    it(`refuses ${JSON.stringify(text).slice(0, 60)}`, () => expect(() => parseRecord(text)).to.throw(RecordSyntaxError, message));
  }
});
