// Consumers and their credentials over GraphQL: every query and mutation, read back through REST (and REST
// writes read back through GraphQL), Kong's errors, basic-auth passwords only ever as a hash, cascades.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestGateway, type TestGateway } from "../harness.ts";
import { gql, gqlData, onlyError, rest, toWireEntity } from "./support.ts";

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway();
});

afterAll(() => gw.stop());

type Consumer = { id: string; username: string | null; customId: string | null; tags: string[] | null };
const CONSUMER_FIELDS = "id username customId tags createdAt updatedAt";

describe("consumers", () => {
  test("addConsumer; REST reads back the same consumer; consumer(idOrName) by username and id", async () => {
    const { addConsumer } = await gqlData<{ addConsumer: Consumer & Record<string, unknown> }>(
      gw,
      `mutation { addConsumer(input: { username: "alice smith", customId: "a-1", tags: ["t", "t"] }) { ${CONSUMER_FIELDS} } }`,
    );
    expect(addConsumer).toMatchObject({ username: "alice smith", customId: "a-1", tags: ["t"] });
    const viaRest = await rest(gw, "GET", `/consumers/${encodeURIComponent("alice smith")}`);
    expect(viaRest.body).toEqual(toWireEntity(addConsumer));
    for (const key of ["alice smith", addConsumer.id])
      expect(await gqlData(gw, "query($k: String!) { consumer(idOrName: $k) { id } }", { k: key })).toEqual({
        consumer: { id: addConsumer.id },
      });
    expect(await gqlData(gw, '{ consumer(idOrName: "nobody") { id } }')).toEqual({ consumer: null });
  });

  test("a consumer created over REST is updated (PATCH), replaced (PUT) and deleted over GraphQL", async () => {
    const created = await rest(gw, "POST", "/consumers", { username: "bob", custom_id: "b-1", tags: ["x"] });
    expect(created.status).toBe(201);
    const patched = await gqlData<{ updateConsumer: Partial<Consumer> }>(
      gw,
      'mutation { updateConsumer(idOrName: "bob", input: { customId: null }) { username customId tags } }',
    );
    expect(patched.updateConsumer).toEqual({ username: "bob", customId: null, tags: ["x"] });
    const replaced = await gqlData<{ upsertConsumer: Consumer }>(
      gw,
      'mutation { upsertConsumer(idOrName: "bob", input: { username: "ignored", customId: "b-2" }) { id username customId tags } }',
    );
    expect(replaced.upsertConsumer).toEqual({
      id: created.body!.id as string,
      username: "bob",
      customId: "b-2",
      tags: null,
    });
    const byId = "7e57c0de-0000-4000-8000-000000000001";
    const made = await gqlData<{ upsertConsumer: Partial<Consumer> }>(
      gw,
      `mutation { upsertConsumer(idOrName: "${byId}", input: { customId: "by-id" }) { id username customId } }`,
    );
    expect(made.upsertConsumer).toEqual({ id: byId, username: null, customId: "by-id" });
    expect(await gqlData(gw, 'mutation { deleteConsumer(idOrName: "bob") }')).toEqual({
      deleteConsumer: created.body!.id,
    });
    expect((await rest(gw, "GET", "/consumers/bob")).status).toBe(404);
    expect(await gqlData(gw, 'mutation { deleteConsumer(idOrName: "bob") }')).toEqual({
      deleteConsumer: null,
    });
  });

  test("at least one of username / customId; each unique; camelCase field paths", async () => {
    const message = "at least one of these fields must be non-empty: 'custom_id', 'username'";
    const empty = onlyError(await gql(gw, 'mutation { addConsumer(input: { tags: ["t"] }) { id } }'));
    expect(empty.extensions).toEqual({ code: 2, name: "schema violation", fields: { "@entity": [message] } });
    const taken = onlyError(await gql(gw, 'mutation { addConsumer(input: { customId: "a-1" }) { id } }'));
    expect(taken.extensions).toEqual({
      code: 5,
      name: "unique constraint violation",
      fields: { customId: "a-1" },
    });
    const cleared = onlyError(
      await gql(
        gw,
        'mutation { updateConsumer(idOrName: "alice smith", input: { username: null, customId: null }) { id } }',
      ),
    );
    expect(cleared.extensions?.fields).toEqual({ "@entity": [message] });
    const missing = onlyError(
      await gql(gw, 'mutation { updateConsumer(idOrName: "ghost", input: { customId: "g" }) { id } }'),
    );
    expect(missing.extensions).toEqual({ code: 6, name: "not found", fields: { username: "ghost" } });
    const badKey = onlyError(await gql(gw, 'mutation { deleteConsumer(idOrName: "") }'));
    expect(badKey.extensions).toEqual({ code: 10, name: "invalid unique username" });
    const badField = onlyError(await gql(gw, 'mutation { addConsumer(input: { username: "" }) { id } }'));
    expect(badField.extensions?.fields).toEqual({ username: "length must be at least 1" });
  });

  test("consumers pages like REST with tag filters", async () => {
    for (let i = 0; i < 5; i++)
      await rest(gw, "POST", "/consumers", { username: `page-${i}`, tags: [`p${i % 2}`] });
    const all = (await rest(gw, "GET", "/consumers")).body!.data as { id: string }[];
    const first = await gqlData<{
      consumers: { data: { id: string }[]; offset: string; hasNextPage: boolean; totalCount: number };
    }>(gw, "{ consumers(size: 3) { data { id } offset hasNextPage totalCount } }");
    expect(first.consumers.totalCount).toBe(all.length);
    expect(first.consumers.hasNextPage).toBe(true);
    const rest2 = await gqlData<{ consumers: { data: { id: string }[]; hasNextPage: boolean } }>(
      gw,
      "query($o: String) { consumers(size: 1000, offset: $o) { data { id } hasNextPage } }",
      { o: first.consumers.offset },
    );
    expect([...first.consumers.data, ...rest2.consumers.data].map((c) => c.id)).toEqual(all.map((c) => c.id));
    const tagged = await gqlData<{ consumers: { totalCount: number } }>(
      gw,
      '{ consumers(tags: ["p1"]) { totalCount } }',
    );
    expect(tagged.consumers.totalCount).toBe(2);
  });
});

describe("credentials", () => {
  beforeAll(async () => {
    await rest(gw, "POST", "/consumers", { username: "dave" });
    await rest(gw, "POST", "/consumers", { username: "erin" });
  });

  test("key-auth: add (key generated when absent), read, list, update, upsert, delete", async () => {
    const generated = await gqlData<{
      addKeyAuth: { id: string; key: string; ttl: number | null; consumer: { username: string } };
    }>(gw, 'mutation { addKeyAuth(consumer: "dave", input: {}) { id key ttl consumer { username } } }');
    expect(generated.addKeyAuth.key).toMatch(/^[0-9a-f]{32}$/);
    expect(generated.addKeyAuth).toMatchObject({ ttl: null, consumer: { username: "dave" } });
    const fixed = await gqlData<{ addKeyAuth: Record<string, unknown> }>(
      gw,
      'mutation { addKeyAuth(consumer: "dave", input: { key: "dave-key", ttl: 3600, tags: ["k"] }) { id createdAt key ttl tags consumer { id } } }',
    );
    const viaRest = await rest(gw, "GET", "/consumers/dave/key-auth/dave-key");
    expect(viaRest.body).toEqual(toWireEntity(fixed.addKeyAuth));
    expect(await gqlData(gw, '{ keyAuth(idOrKey: "dave-key") { key consumer { username } } }')).toEqual({
      keyAuth: { key: "dave-key", consumer: { username: "dave" } },
    });
    const listed = await gqlData<{
      consumer: { keyAuths: { totalCount: number } };
      keyAuths: { totalCount: number };
    }>(gw, '{ consumer(idOrName: "dave") { keyAuths { totalCount } } keyAuths { totalCount } }');
    expect(listed).toEqual({ consumer: { keyAuths: { totalCount: 2 } }, keyAuths: { totalCount: 2 } });
    const updated = await gqlData<{ updateKeyAuth: Record<string, unknown> }>(
      gw,
      'mutation { updateKeyAuth(idOrKey: "dave-key", input: { ttl: null }) { key ttl tags } }',
    );
    expect(updated.updateKeyAuth).toEqual({ key: "dave-key", ttl: null, tags: ["k"] });
    const upserted = await gqlData<{ upsertKeyAuth: Record<string, unknown> }>(
      gw,
      'mutation { upsertKeyAuth(consumer: "dave", idOrKey: "dave-key", input: { key: "ignored" }) { id key tags } }',
    );
    expect(upserted.upsertKeyAuth).toEqual({ id: fixed.addKeyAuth.id, key: "dave-key", tags: null });
    expect(await gqlData(gw, 'mutation { deleteKeyAuth(idOrKey: "dave-key") }')).toEqual({
      deleteKeyAuth: fixed.addKeyAuth.id,
    });
    expect((await rest(gw, "GET", "/key-auths/dave-key")).status).toBe(404);
    expect(await gqlData(gw, 'mutation { deleteKeyAuth(idOrKey: "dave-key") }')).toEqual({
      deleteKeyAuth: null,
    });
  });

  test("key-auth errors: duplicate key (5), bad ttl (2), missing consumer (6), key of another consumer (6)", async () => {
    await rest(gw, "POST", "/consumers/dave/key-auth", { key: "taken-key" });
    expect(
      onlyError(
        await gql(gw, 'mutation { addKeyAuth(consumer: "erin", input: { key: "taken-key" }) { id } }'),
      ).extensions,
    ).toEqual({ code: 5, name: "unique constraint violation", fields: { key: "already in use" } });
    expect(
      onlyError(await gql(gw, 'mutation { addKeyAuth(consumer: "erin", input: { ttl: -1 }) { id } }'))
        .extensions,
    ).toEqual({
      code: 2,
      name: "schema violation",
      fields: { ttl: "value should be between 0 and 100000000" },
    });
    const ghost = onlyError(
      await gql(gw, 'mutation { addKeyAuth(consumer: "ghost", input: { key: "g" }) { id } }'),
    );
    expect(ghost.extensions).toEqual({ code: 6, name: "not found", fields: { consumer: "ghost" } });
    expect(ghost.message).toBe(`could not find the consumer with '{username="ghost"}'`);
    expect((await rest(gw, "GET", "/key-auths/g")).status).toBe(404);
    const elsewhere = onlyError(
      await gql(gw, 'mutation { upsertKeyAuth(consumer: "erin", idOrKey: "taken-key", input: {}) { id } }'),
    );
    expect(elsewhere.extensions?.code).toBe(6);
    expect((await rest(gw, "GET", "/key-auths/taken-key")).body!.consumer).toEqual({
      id: (await rest(gw, "GET", "/consumers/dave")).body!.id,
    });
  });

  test("basic-auth: the password is hashed, only the hash is ever shown, PATCH re-hashes", async () => {
    const made = await gqlData<{ addBasicAuth: { id: string; username: string; password: string } }>(
      gw,
      'mutation { addBasicAuth(consumer: "dave", input: { username: "dave-login", password: "s3cret!" }) { id username password } }',
    );
    expect(made.addBasicAuth.username).toBe("dave-login");
    expect(made.addBasicAuth.password).toStartWith("$argon2id$");
    expect(JSON.stringify(made)).not.toContain("s3cret!");
    expect(await Bun.password.verify("s3cret!", made.addBasicAuth.password)).toBe(true);
    expect((await rest(gw, "GET", "/basic-auths/dave-login")).body!.password).toBe(
      made.addBasicAuth.password,
    );
    const renamed = await gqlData<{ updateBasicAuth: { username: string; password: string } }>(
      gw,
      'mutation { updateBasicAuth(idOrKey: "dave-login", input: { tags: ["t"] }) { username password } }',
    );
    expect(renamed.updateBasicAuth.password).toBe(made.addBasicAuth.password);
    const rotated = await gqlData<{ updateBasicAuth: { password: string } }>(
      gw,
      'mutation { updateBasicAuth(idOrKey: "dave-login", input: { password: "n3w" }) { password } }',
    );
    expect(await Bun.password.verify("n3w", rotated.updateBasicAuth.password)).toBe(true);
    const missing = onlyError(
      await gql(gw, 'mutation { addBasicAuth(consumer: "dave", input: { username: "no-password" }) { id } }'),
    );
    expect(missing.extensions?.fields).toEqual({ password: "required field missing" });
    const listed = await gqlData<{ basicAuths: { data: { username: string }[] } }>(
      gw,
      "{ basicAuths { data { username } } }",
    );
    expect(listed.basicAuths.data).toEqual([{ username: "dave-login" }]);
    expect(await gqlData(gw, 'mutation { deleteBasicAuth(idOrKey: "dave-login") }')).toEqual({
      deleteBasicAuth: made.addBasicAuth.id,
    });
  });

  test("jwt: key and secret generated, algorithm enum, RS256 needs a loadable public key", async () => {
    const made = await gqlData<{ addJwtSecret: Record<string, unknown> }>(
      gw,
      'mutation { addJwtSecret(consumer: "erin", input: {}) { id key secret rsaPublicKey algorithm consumer { username } } }',
    );
    expect(made.addJwtSecret).toMatchObject({
      key: expect.stringMatching(/^[0-9a-f]{32}$/),
      secret: expect.stringMatching(/^[0-9a-f]{32}$/),
      rsaPublicKey: null,
      algorithm: "HS256",
      consumer: { username: "erin" },
    });
    const bad = onlyError(
      await gql(
        gw,
        'mutation { addJwtSecret(consumer: "erin", input: { algorithm: RS256, rsaPublicKey: "nope" }) { id } }',
      ),
    );
    expect(bad.extensions).toEqual({
      code: 2,
      name: "schema violation",
      fields: {
        rsaPublicKey: "invalid key",
        "@entity": ["failed conditional validation given value of field 'algorithm'"],
      },
    });
    const { publicKey } = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
      "sign",
      "verify",
    ]);
    const spki = Buffer.from(await crypto.subtle.exportKey("spki", publicKey)).toString("base64");
    const pem = `-----BEGIN PUBLIC KEY-----\n${spki.match(/.{1,64}/g)!.join("\n")}\n-----END PUBLIC KEY-----\n`;
    const es = await gqlData<{ upsertJwtSecret: Record<string, unknown> }>(
      gw,
      'mutation($pem: String!) { upsertJwtSecret(consumer: "erin", idOrKey: "erin-es", input: { algorithm: ES256, rsaPublicKey: $pem }) { key algorithm rsaPublicKey } }',
      { pem },
    );
    expect(es.upsertJwtSecret).toEqual({ key: "erin-es", algorithm: "ES256", rsaPublicKey: pem });
    const updated = await gqlData<{ updateJwtSecret: { secret: string } }>(
      gw,
      'mutation { updateJwtSecret(idOrKey: "erin-es", input: { secret: "shh" }) { secret } }',
    );
    expect(updated.updateJwtSecret.secret).toBe("shh");
    const listed = await gqlData<{
      consumer: { jwtSecrets: { totalCount: number } };
      jwtSecret: { key: string };
    }>(
      gw,
      '{ consumer(idOrName: "erin") { jwtSecrets { totalCount } } jwtSecret(idOrKey: "erin-es") { key } }',
    );
    expect(listed).toEqual({ consumer: { jwtSecrets: { totalCount: 2 } }, jwtSecret: { key: "erin-es" } });
    expect(await gqlData(gw, 'mutation { deleteJwtSecret(idOrKey: "erin-es") }')).toMatchObject({
      deleteJwtSecret: expect.any(String),
    });
  });

  test("acls: a group once per consumer (5), the same group for another consumer is fine", async () => {
    const made = await gqlData<{ addAcl: { id: string; group: string } }>(
      gw,
      'mutation { addAcl(consumer: "dave", input: { group: "gold" }) { id group } }',
    );
    const dup = onlyError(
      await gql(gw, 'mutation { addAcl(consumer: "dave", input: { group: "gold" }) { id } }'),
    );
    expect(dup.extensions?.code).toBe(5);
    expect(dup.extensions?.fields).toMatchObject({ group: "gold" });
    await gqlData(gw, 'mutation { addAcl(consumer: "erin", input: { group: "gold" }) { id } }');
    const missing = onlyError(await gql(gw, 'mutation { addAcl(consumer: "dave", input: {}) { id } }'));
    expect(missing.extensions?.fields).toEqual({ group: "required field missing" });
    const listed = await gqlData<{ acls: { totalCount: number }; acl: { id: string } }>(
      gw,
      `{ acls { totalCount } acl(idOrKey: "${made.addAcl.id}") { id } }`,
    );
    expect(listed).toEqual({ acls: { totalCount: 2 }, acl: { id: made.addAcl.id } });
    const updated = await gqlData<{ updateAcl: { group: string } }>(
      gw,
      `mutation { updateAcl(idOrKey: "${made.addAcl.id}", input: { group: "silver" }) { group } }`,
    );
    expect(updated.updateAcl.group).toBe("silver");
    expect(await gqlData(gw, `mutation { deleteAcl(idOrKey: "${made.addAcl.id}") }`)).toEqual({
      deleteAcl: made.addAcl.id,
    });
  });

  test("credentials written over REST are read through Consumer's links", async () => {
    await rest(gw, "POST", "/consumers", { username: "frank" });
    await rest(gw, "POST", "/consumers/frank/key-auth", { key: "frank-key" });
    await rest(gw, "POST", "/consumers/frank/basic-auth", { username: "frank", password: "pw" });
    await rest(gw, "POST", "/consumers/frank/jwt", { key: "frank-iss" });
    await rest(gw, "POST", "/consumers/frank/acls", { group: "bronze" });
    const { consumer } = await gqlData<{ consumer: Record<string, { data: Record<string, unknown>[] }> }>(
      gw,
      `{ consumer(idOrName: "frank") { keyAuths { data { key } } basicAuths { data { username } }
         jwtSecrets { data { key } } acls { data { group } } plugins { totalCount } } }`,
    );
    expect(consumer).toEqual({
      keyAuths: { data: [{ key: "frank-key" }] },
      basicAuths: { data: [{ username: "frank" }] },
      jwtSecrets: { data: [{ key: "frank-iss" }] },
      acls: { data: [{ group: "bronze" }] },
      plugins: { totalCount: 0 },
    } as never);
  });
});

describe("cascades, seen through GraphQL", () => {
  test("deleteConsumer removes every credential of the consumer, and only those", async () => {
    await gqlData(gw, 'mutation { addConsumer(input: { username: "doomed" }) { id } }');
    await gqlData(gw, 'mutation { addKeyAuth(consumer: "doomed", input: { key: "doomed-key" }) { id } }');
    await gqlData(
      gw,
      'mutation { addBasicAuth(consumer: "doomed", input: { username: "doomed", password: "p" }) { id } }',
    );
    await gqlData(gw, 'mutation { addJwtSecret(consumer: "doomed", input: { key: "doomed-iss" }) { id } }');
    await gqlData(gw, 'mutation { addAcl(consumer: "doomed", input: { group: "doomed-group" }) { id } }');
    const count =
      "{ keyAuths { totalCount } basicAuths { totalCount } jwtSecrets { totalCount } acls { totalCount } }";
    const before = await gqlData<Record<string, { totalCount: number }>>(gw, count);
    await gqlData(gw, 'mutation { deleteConsumer(idOrName: "doomed") }');
    const after = await gqlData<Record<string, { totalCount: number }>>(gw, count);
    for (const list of ["keyAuths", "basicAuths", "jwtSecrets", "acls"])
      expect({ list, n: after[list]!.totalCount }).toEqual({ list, n: before[list]!.totalCount - 1 });
    expect(
      await gqlData(
        gw,
        '{ keyAuth(idOrKey: "doomed-key") { id } jwtSecret(idOrKey: "doomed-iss") { id } basicAuth(idOrKey: "doomed") { id } }',
      ),
    ).toEqual({ keyAuth: null, jwtSecret: null, basicAuth: null });
  });
});
