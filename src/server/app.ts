/**
 * The Koa app: a router whose routes answer their expected failures (answerOf) and let the rest
 * reach the outermost middleware (500, generic reason); a path no route matched gets 405 with
 * Allow when the path is known, else 404.
 */
import Koa from 'koa';
import type { Context } from 'koa';
import Router from '@koa/router';
import { REASON } from '../protocol/reasons.js';
import { INTERNAL_ERROR, answerKoa, answerOf } from './answer.js';

export type RouteHandler = (ctx: Context) => unknown;
export type Method = 'get' | 'put' | 'post' | 'delete' | 'head';
/** Registers a route; `dataPlane`: its errors carry real HTTP statuses (else 200, as the contract). */
export type Route = (method: Method, path: string, h: RouteHandler, dataPlane?: boolean) => void;

export function createApp(register: (route: Route) => void): Koa {
  const app = new Koa();
  const router = new Router({ sensitive: true, strict: true });
  /** path -> methods, for 405 and the Allow header. */
  const allowed = new Map<string, Set<string>>();
  const route: Route = (method, path, h, dataPlane = false) => {
    let set = allowed.get(path);
    if (!set) allowed.set(path, (set = new Set()));
    set.add(method.toUpperCase());
    if (method === 'get') set.add('HEAD');
    const wrapped = async (ctx: Context) => {
      try {
        await h(ctx);
      } catch (e) {
        const a = answerOf(e, dataPlane);
        if (!a) throw e;
        answerKoa(ctx, a);
      }
    };
    (router as unknown as Record<string, (p: string, h: RouteHandler) => void>)[method](path, wrapped);
  };

  // Outermost: unexpected failures become the error body, never a bare 500 page.
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (e) {
      ctx.app.emit('error', e, ctx);
      answerKoa(ctx, INTERNAL_ERROR);
    }
  });
  app.silent = true;
  register(route);
  app.use(router.routes());
  // Reached only when no route matched: 405 on a known path, else 404.
  app.use((ctx) => {
    const methods = allowed.get(ctx.path);
    if (methods) {
      ctx.set('Allow', [...methods].join(', '));
      answerKoa(ctx, { status: 405, reason: REASON.METHOD_NOT_ALLOWED });
    } else {
      answerKoa(ctx, { status: 404, reason: REASON.NOT_FOUND });
    }
  });
  return app;
}
