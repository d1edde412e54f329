/** `sluice acls create | list | delete` against a scripted server. */
import { describe, expect, it } from 'vitest';
import type { StoredAcl } from '../../../api/acls';
import { EXIT_CODES } from '../../../cli/main';
import { fakeFetch } from '../client/fake-fetch';
import { sluice } from './run-cli';

const ROLE = 'arn:aws:iam::123456789012:role/Payments';
const ACL: StoredAcl = {
  id: '0123456789abcdef0123456789abcdef',
  principal: ROLE,
  resourceType: 'topic',
  patternType: 'prefixed',
  resourceName: 'pay.',
  operation: 'read',
  permission: 'allow',
  source: 'api',
};

describe('Command: sluice acls', () => {
  it('create sends one ACL per operation and prints them', async () => {
    const server = fakeFetch({ status: 201, body: { acls: [ACL, { ...ACL, operation: 'describe' }] } });
    const { code, stdout } = await sluice(['acls', 'create', '--principal', ROLE, '--topic', 'pay.', '--prefixed', '--operation', 'read,describe'], server.fetch);
    expect(code).toBe(0);
    expect(server.requests[0]).toMatchObject({ method: 'POST', url: 'http://127.0.0.1:4545/acls' });
    expect(JSON.parse(server.requests[0]!.body!)).toEqual({
      acls: [
        { principal: ROLE, resourceType: 'topic', resourceName: 'pay.', patternType: 'prefixed', operation: 'read', permission: 'allow' },
        { principal: ROLE, resourceType: 'topic', resourceName: 'pay.', patternType: 'prefixed', operation: 'describe', permission: 'allow' },
      ],
    });
    expect(stdout).toMatch(/^ID +PRINCIPAL +PERMISSION +OPERATION +RESOURCE +PATTERN +NAME +SOURCE\n/);
    expect(stdout).toContain('prefixed');
  });

  it('create --cluster --deny names the cluster', async () => {
    const server = fakeFetch({ status: 201, body: { acls: [] } });
    await sluice(['acls', 'create', '--principal', '*', '--cluster', '--operation', 'alter', '--deny'], server.fetch);
    expect(JSON.parse(server.requests[0]!.body!).acls[0]).toMatchObject({ resourceType: 'cluster', resourceName: 'sluice-cluster', permission: 'deny' });
  });

  it.each([
    [['acls', 'create', '--principal', ROLE, '--operation', 'read'], /exactly one of --topic, --group, --cluster/],
    [['acls', 'create', '--principal', ROLE, '--topic', 't', '--group', 'g', '--operation', 'read'], /exactly one of/],
    [['acls', 'create', '--principal', ROLE, '--topic', 't', '--operation', 'fly'], /--operation must list/],
    [['acls', 'create', '--principal', ROLE, '--cluster', '--prefixed', '--operation', 'alter'], /--prefixed needs/],
    [['acls', 'delete'], /at least one filter/],
  ])('%j is a usage error without a request', async (argv, message) => {
    const server = fakeFetch();
    const { code, stderr } = await sluice(argv, server.fetch);
    expect(code).toBe(EXIT_CODES.usage);
    expect(stderr).toMatch(message);
    expect(server.requests).toHaveLength(0);
  });

  it('list sends its filters as the query, and prints JSON with --json', async () => {
    const server = fakeFetch({ status: 200, body: { acls: [ACL] } });
    const { stdout } = await sluice(['acls', 'list', '--group', 'billing', '--deny', '--json'], server.fetch);
    const url = new URL(server.requests[0]!.url);
    expect(Object.fromEntries(url.searchParams)).toEqual({ resourceType: 'group', resourceName: 'billing', permission: 'deny' });
    expect(JSON.parse(stdout)).toEqual({ acls: [ACL] });
  });

  it('delete by id prints what it deleted; a 403 is an API error', async () => {
    const server = fakeFetch(
      { status: 200, body: { deleted: [ACL] } },
      { status: 403, body: { error: { code: 'AuthorizationFailed', message: 'not authorized to alter on cluster "sluice-cluster"' } } },
    );
    const deleted = await sluice(['acls', 'delete', '--id', ACL.id], server.fetch);
    expect(new URL(server.requests[0]!.url).searchParams.get('id')).toBe(ACL.id);
    expect(deleted.stdout).toMatch(/^Deleted:\n/);
    const refused = await sluice(['acls', 'delete', '--principal', '*'], server.fetch);
    expect(refused.code).toBe(EXIT_CODES.apiError);
    expect(refused.stderr).toMatch(/AuthorizationFailed/);
  });
});
