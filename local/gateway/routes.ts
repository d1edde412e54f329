/**
 * Which integration API Gateway picks for a request, by its documented rules: HTTP APIs take the
 * most specific route (literal segments over `{param}` over `{proxy+}`; a method over `ANY`) and
 * fall back to `$default`; REST APIs walk the resource tree (a literal child over the variable
 * child over a greedy one) and then take the method, else `ANY`.
 */
import type { HttpApiRoute, RestApiMethod } from '../template/twin';

export interface PathMatch {
  readonly pathParameters: Record<string, string>;
  /** Higher is more specific. */
  readonly score: number[];
}

/** Matches a concrete path against an API Gateway path pattern (`/topics/{topic}`, `/{proxy+}`). */
export function matchPath(pattern: string, path: string): PathMatch | undefined {
  const want = pattern.split('/').filter(Boolean);
  const have = path.split('/').filter(Boolean);
  const params: Record<string, string> = {};
  const score: number[] = [];
  for (let i = 0; i < want.length; i++) {
    const p = want[i]!;
    const greedy = /^\{(.+)\+\}$/.exec(p);
    if (greedy) {
      if (i !== want.length - 1 || have.length <= i) return undefined;
      params[greedy[1]!] = have.slice(i).join('/');
      score.push(0);
      return { pathParameters: params, score };
    }
    const a = have[i];
    if (a === undefined) return undefined;
    const variable = /^\{(.+)\}$/.exec(p);
    if (variable) {
      try {
        params[variable[1]!] = decodeURIComponent(a);
      } catch {
        return undefined; // a malformed %-escape matches no route
      }
      score.push(1);
    } else if (p === a) {
      score.push(2);
    } else {
      return undefined;
    }
  }
  return have.length === want.length ? { pathParameters: params, score } : undefined;
}

function compareScores(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

export function selectHttpRoute(
  routes: readonly HttpApiRoute[],
  method: string,
  path: string,
): { route: HttpApiRoute; pathParameters?: Record<string, string> } | undefined {
  let best: { route: HttpApiRoute; match: PathMatch; exactMethod: boolean } | undefined;
  for (const route of routes) {
    if (route.routeKey === '$default') continue;
    const [routeMethod, pattern = '/'] = route.routeKey.split(' ');
    if (routeMethod !== method && routeMethod !== 'ANY') continue;
    const match = matchPath(pattern, path);
    if (!match) continue;
    const exactMethod = routeMethod === method;
    const cmp = best ? compareScores(match.score, best.match.score) : 1;
    if (cmp > 0 || (cmp === 0 && exactMethod && !best!.exactMethod)) best = { route, match, exactMethod };
  }
  if (best) return { route: best.route, pathParameters: best.match.pathParameters };
  const fallback = routes.find((r) => r.routeKey === '$default');
  return fallback ? { route: fallback } : undefined;
}

export function selectRestMethod(
  methods: readonly RestApiMethod[],
  method: string,
  path: string,
): { method: RestApiMethod; pathParameters: Record<string, string> } | undefined {
  // The most specific resource that has any method, then its method or ANY.
  const byResource = new Map<string, RestApiMethod[]>();
  for (const m of methods) byResource.set(m.resourcePath, [...(byResource.get(m.resourcePath) ?? []), m]);
  let best: { path: string; match: PathMatch } | undefined;
  for (const resourcePath of byResource.keys()) {
    const match = resourcePath === '/' ? (path.split('/').filter(Boolean).length === 0 ? { pathParameters: {}, score: [] } : undefined) : matchPath(resourcePath, path);
    if (match && (!best || compareScores(match.score, best.match.score) > 0)) best = { path: resourcePath, match };
  }
  if (!best) return undefined;
  const candidates = byResource.get(best.path)!;
  const chosen = candidates.find((m) => m.httpMethod === method) ?? candidates.find((m) => m.httpMethod === 'ANY');
  return chosen ? { method: chosen, pathParameters: best.match.pathParameters } : undefined;
}
