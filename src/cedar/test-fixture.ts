/** A small entity fixture shared by the evaluator's oracle tests. */
export const ENTITIES = [
  {
    uid: { type: 'User', id: 'alice' },
    attrs: {
      name: 'Alice',
      age: 42,
      tags: ['a', 'b'],
      addr: { city: 'Paris', zip: '75001', geo: { lat: 1 } },
      boss: { __entity: { type: 'User', id: 'bob' } },
      ghost: { __entity: { type: 'User', id: 'nobody' } },
      score: { __extn: { fn: 'decimal', arg: '0.75' } },
      ip: { __extn: { fn: 'ip', arg: '10.0.0.7' } },
      born: { __extn: { fn: 'datetime', arg: '1980-05-01' } },
      __proto__: 'plain key',
      'a b': true,
    },
    parents: [{ type: 'Group', id: 'staff' }],
    tags: { level: 3, team: 'red' },
  },
  { uid: { type: 'User', id: 'bob' }, attrs: { name: 'Bob' }, parents: [{ type: 'Group', id: 'admins' }] },
  { uid: { type: 'Group', id: 'staff' }, attrs: {}, parents: [{ type: 'Org', id: 'acme' }] },
  { uid: { type: 'Group', id: 'admins' }, attrs: {}, parents: [{ type: 'Group', id: 'staff' }] },
  { uid: { type: 'Org', id: 'acme' }, attrs: {}, parents: [] },
  {
    uid: { type: 'Photo', id: 'p1' },
    attrs: { owner: { __entity: { type: 'User', id: 'alice' } }, private: false, size: 10 },
    parents: [{ type: 'Album', id: 'trip' }],
  },
  { uid: { type: 'Album', id: 'trip' }, attrs: {}, parents: [{ type: 'Album', id: 'all' }] },
  { uid: { type: 'Action', id: 'view' }, attrs: {}, parents: [{ type: 'Action', id: 'read' }] },
  { uid: { type: 'Action', id: 'read' }, attrs: {}, parents: [] },
];

export const CONTEXT = {
  n: 5,
  s: 'hello*world',
  flag: true,
  list: [1, 2, 3],
  ents: [{ __entity: { type: 'Group', id: 'staff' } }],
  rec: { x: 1, y: { z: 'deep' } },
  when: { __extn: { fn: 'datetime', arg: '2024-10-15T11:38:02.123+0100' } },
  d: { __extn: { fn: 'duration', arg: '1h30m' } },
};
