import type { paths } from '@kith/contract';
import type { ResponseOf } from '../../api/client.ts';
import { ApiError, NETWORK_ERROR, toApiError } from '../../api/errors.ts';
import { session } from '../../auth/session.ts';
import { i18next } from '../../i18n/index.ts';

const UPLOAD_PATH = '/api/v1/media' satisfies keyof paths;
export type UploadAccepted = ResponseOf<'/api/v1/media', 'post'>;

export interface UploadHandle {
  promise: Promise<UploadAccepted>;
  abort(): void;
}

/**
 * POST /api/v1/media as multipart through XMLHttpRequest, the one browser API that reports upload
 * progress byte by byte. The same `idempotencyKey` on a retry makes the server answer with the
 * first upload instead of storing a second one. A 401 gets one token refresh and one retry.
 */
export function uploadMedia(
  blob: Blob,
  fileName: string,
  idempotencyKey: string,
  onProgress: (sent: number, total: number) => void,
): UploadHandle {
  let xhr: XMLHttpRequest | undefined;
  let aborted = false;
  const send = (token: string | undefined) =>
    new Promise<{ status: number; body: unknown; headers: Headers }>((resolve, reject) => {
      const request = new XMLHttpRequest();
      xhr = request;
      request.open('POST', UPLOAD_PATH);
      request.responseType = 'json';
      request.setRequestHeader('Idempotency-Key', idempotencyKey);
      if (token) request.setRequestHeader('Authorization', `Bearer ${token}`);
      request.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : blob.size);
      request.onload = () => {
        const headers = new Headers();
        for (const line of request.getAllResponseHeaders().trim().split(/\r?\n/)) {
          const at = line.indexOf(':');
          if (at > 0) headers.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
        }
        resolve({ status: request.status, body: request.response, headers });
      };
      request.onerror = () =>
        reject(new ApiError({ code: NETWORK_ERROR, message: i18next.t('errors.network'), status: 0 }));
      request.onabort = () => reject(new DOMException('upload cancelled', 'AbortError'));
      const form = new FormData();
      form.append('file', blob, fileName);
      request.send(form);
    });

  const promise = (async () => {
    const token = session.accessToken();
    let result = await send(token);
    if (result.status === 401 && token && !aborted) {
      const fresh = await session.refresh(token);
      if (fresh) result = await send(fresh);
    }
    if (result.status >= 200 && result.status < 300) return result.body as UploadAccepted;
    throw toApiError(
      result.body,
      new Response(null, { status: result.status, headers: result.headers }),
      i18next.t('errors.unexpected'),
    );
  })();
  return {
    promise,
    abort() {
      aborted = true;
      xhr?.abort();
    },
  };
}
