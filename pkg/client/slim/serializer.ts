/**
 * Stands in for `@kubernetes/client-node/dist/serializer.js` when client-node's `cache.js`
 * (ListWatch) imports it (see ../client-node.ts). ListWatch serializes only its label and field
 * selectors, as type 'string', which the generated serializer returns unchanged; the real module
 * loads every generated model class to do that.
 */
export const ObjectSerializer = {
  serialize(data: unknown, type: string): unknown {
    if (data === undefined || data === null || type.toLowerCase() === 'string') return data;
    throw new Error(`keelson loads client-node's ListWatch without its model serializer; cannot serialize a ${type}`);
  },
};
