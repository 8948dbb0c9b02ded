import { useCallback, useEffect, useRef, useState } from 'react';
import { api, call } from '../../api/client.ts';
import { ApiError } from '../../api/errors.ts';
import { i18next } from '../../i18n/index.ts';
import { ACCEPTED_TYPES, MAX_UPLOAD_BYTES, prepareImage } from '../upload/prepare-image.ts';
import { type UploadHandle, uploadMedia } from '../upload/upload.ts';

export const MAX_ATTACHMENTS = 4;
const POLL_MS = 1000;

export type Phase = 'preparing' | 'uploading' | 'processing' | 'ready' | 'failed' | 'error' | 'cancelled';

export interface Attachment {
  key: string;
  file: File;
  preview: string;
  /** Kept for every retry of this file: the server stores it once. */
  idempotencyKey: string;
  phase: Phase;
  sent: number;
  total: number;
  mediaId?: string;
  alt: string;
  error?: ApiError;
  prepared?: { blob: Blob; fileName: string };
}

const mediaError = (key: string) =>
  new ApiError({ code: key, message: i18next.t(`compose.media.${key as 'tooLarge'}`), status: 0 });

/**
 * The images of one post being written: prepared in the browser, uploaded with progress,
 * cancellable, retried with the same Idempotency-Key, polled until the server has processed them.
 */
export function useAttachments() {
  const [items, setItems] = useState<Attachment[]>([]);
  const handles = useRef(new Map<string, UploadHandle>());
  const polls = useRef(new Map<string, ReturnType<typeof setTimeout>>());
  const itemsRef = useRef(items);
  itemsRef.current = items;

  const update = useCallback((key: string, patch: Partial<Attachment>) => {
    setItems((list) => list.map((a) => (a.key === key ? { ...a, ...patch } : a)));
  }, []);

  const poll = useCallback(
    (key: string, mediaId: string) => {
      const tick = async () => {
        try {
          const media = await call(api.GET('/api/v1/media/{id}', { params: { path: { id: mediaId } } }));
          if (media.status === 'ready') return update(key, { phase: 'ready' });
          if (media.status === 'failed') {
            return update(key, {
              phase: 'failed',
              error: mediaError(media.failureReason === 'too_many_pixels' ? 'tooManyPixels' : 'unreadable'),
            });
          }
        } catch (error) {
          if (error instanceof ApiError && error.status >= 400 && error.status < 500) {
            return update(key, { phase: 'error', error });
          }
        }
        if (itemsRef.current.some((a) => a.key === key)) polls.current.set(key, setTimeout(tick, POLL_MS));
      };
      polls.current.set(key, setTimeout(tick, POLL_MS / 2));
    },
    [update],
  );

  const start = useCallback(
    async (item: Attachment) => {
      try {
        let prepared = item.prepared;
        if (!prepared) {
          update(item.key, { phase: 'preparing' });
          prepared = await prepareImage(item.file);
        }
        if (prepared.blob.size > MAX_UPLOAD_BYTES) {
          return update(item.key, { phase: 'error', error: mediaError('tooLarge'), prepared });
        }
        update(item.key, { phase: 'uploading', sent: 0, total: prepared.blob.size, prepared });
        const handle = uploadMedia(prepared.blob, prepared.fileName, item.idempotencyKey, (sent, total) =>
          update(item.key, { sent, total }),
        );
        handles.current.set(item.key, handle);
        const accepted = await handle.promise;
        handles.current.delete(item.key);
        update(item.key, { phase: 'processing', mediaId: accepted.id, sent: prepared.blob.size });
        poll(item.key, accepted.id);
      } catch (error) {
        handles.current.delete(item.key);
        if (error instanceof DOMException && error.name === 'AbortError')
          return update(item.key, { phase: 'cancelled' });
        update(item.key, {
          phase: 'error',
          error: error instanceof ApiError ? error : mediaError('unreadable'),
        });
      }
    },
    [poll, update],
  );

  const add = useCallback(
    (files: FileList | File[]) => {
      const room = MAX_ATTACHMENTS - itemsRef.current.length;
      const fresh: Attachment[] = [...files].slice(0, Math.max(0, room)).map((file) => ({
        key: crypto.randomUUID(),
        file,
        preview: URL.createObjectURL(file),
        idempotencyKey: crypto.randomUUID(),
        phase: 'preparing' as const,
        sent: 0,
        total: file.size,
        alt: '',
      }));
      setItems((list) => [...list, ...fresh]);
      for (const item of fresh) {
        if (!ACCEPTED_TYPES.includes(item.file.type)) {
          update(item.key, { phase: 'error', error: mediaError('unsupported') });
        } else {
          void start(item);
        }
      }
      return [...files].length > fresh.length;
    },
    [start, update],
  );

  const cancel = (key: string) => handles.current.get(key)?.abort();
  const retry = (key: string) => {
    const item = itemsRef.current.find((a) => a.key === key);
    if (item) void start({ ...item, error: undefined });
  };
  const remove = (key: string) => {
    handles.current.get(key)?.abort();
    clearTimeout(polls.current.get(key));
    const item = itemsRef.current.find((a) => a.key === key);
    if (item) URL.revokeObjectURL(item.preview);
    setItems((list) => list.filter((a) => a.key !== key));
  };
  const setAlt = (key: string, alt: string) => update(key, { alt });
  const clear = () => {
    for (const item of itemsRef.current) remove(item.key);
  };

  useEffect(
    () => () => {
      for (const handle of handles.current.values()) handle.abort();
      for (const timer of polls.current.values()) clearTimeout(timer);
    },
    [],
  );

  return { items, add, cancel, retry, remove, setAlt, clear };
}
