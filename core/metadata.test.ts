import { expect } from 'chai';
import { isMetadataLabel, RequestMetadata } from './metadata.js';

describe('metadata (CoreDNS plugin/metadata semantics)', () => {
  it('computes a function value on first read, once', () => {
    const m = new RequestMetadata();
    let calls = 0;
    m.set('kubernetes/client-namespace', () => (calls++, 'default'));
    expect(calls).to.equal(0);
    expect(m.get('kubernetes/client-namespace')).to.equal('default');
    expect(m.get('kubernetes/client-namespace')).to.equal('default');
    expect(calls).to.equal(1);
  });

  it('remembers a function that had no value', () => {
    const m = new RequestMetadata();
    let calls = 0;
    m.set('kubernetes/client-pod-name', () => void calls++);
    expect(m.get('kubernetes/client-pod-name')).to.equal(undefined);
    expect(m.get('kubernetes/client-pod-name')).to.equal(undefined);
    expect(calls).to.equal(1);
  });

  it('lists labels, a later set replaces a value, unknown labels read undefined', () => {
    const m = new RequestMetadata();
    m.set('a/x', '1');
    m.set('b/y', '2');
    m.set('a/x', '3');
    expect(m.labels()).to.deep.equal(['a/x', 'b/y']);
    expect(m.get('a/x')).to.equal('3');
    expect(m.get('c/z')).to.equal(undefined);
  });

  const labels = [
    { label: 'kubernetes/client-namespace', ok: true },
    { label: 'a/b', ok: true },
    { label: 'plain', ok: false },
    { label: '/name', ok: false },
    { label: 'plugin/', ok: false },
  ];
  for (const row of labels) {
    it(`'${row.label}' is ${row.ok ? '' : 'not '}a label`, () => {
      expect(isMetadataLabel(row.label)).to.equal(row.ok);
      const m = new RequestMetadata();
      if (row.ok) m.set(row.label, 'v');
      else expect(() => m.set(row.label, 'v')).to.throw(TypeError, /plugin\/name/);
    });
  }
});
