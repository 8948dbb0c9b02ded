import {
  type Announcements,
  closestCenter,
  DndContext,
  type DragEndEvent,
  KeyboardSensor,
  PointerSensor,
  type ScreenReaderInstructions,
  type UniqueIdentifier,
  useSensor,
  useSensors,
} from '@dnd-kit/core';
import {
  arrayMove,
  SortableContext,
  sortableKeyboardCoordinates,
  useSortable,
  verticalListSortingStrategy,
} from '@dnd-kit/sortable';
import { CSS } from '@dnd-kit/utilities';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorMessage } from '../../ui/error-message.tsx';
import { TimeAgo } from '../../ui/post/post-card.tsx';
import { type CollectionItem, collections, refreshCollections } from './collections-query.ts';

const reducedMotion = () => globalThis.matchMedia?.('(prefers-reduced-motion: reduce)').matches ?? false;

/**
 * A collection's posts in order. Its owner reorders them by dragging the handle, or from the
 * keyboard: focus a handle, Space (or Enter) to lift, arrows to move, Space to drop, Esc to cancel.
 * Every step is announced (dnd-kit's live region, with Kith's messages); the new order is saved at
 * once and rolled back if the server refuses it.
 */
export function ItemList({
  collectionId,
  items,
  editable,
  complete,
}: {
  collectionId: string;
  items: CollectionItem[];
  editable: boolean;
  complete: boolean;
}) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const serverOrder = useMemo(() => items.map((i) => i.postId), [items]);
  const [order, setOrder] = useState(serverOrder);
  useEffect(() => setOrder(serverOrder), [serverOrder]);
  const byId = useMemo(() => new Map(items.map((i) => [i.postId, i])), [items]);
  const reorder = useMutation({
    mutationFn: (postIds: string[]) => collections.reorder(collectionId, postIds),
    onError: () => setOrder(serverOrder),
    onSettled: () => refreshCollections(queryClient),
  });
  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 5 } }),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }),
  );
  const canSort = editable && complete && order.length > 1;
  const titleOf = (id: UniqueIdentifier) => {
    const item = byId.get(String(id));
    return item?.post
      ? snippet(item.post.text) || item.post.author.displayName
      : t('social.collections.gone');
  };
  const positionOf = (id: UniqueIdentifier | undefined) =>
    id === undefined ? 0 : order.indexOf(String(id)) + 1;
  const total = order.length;
  const lastOver = useRef<UniqueIdentifier | null>(null);
  const announcements: Announcements = {
    onDragStart: ({ active }) => {
      lastOver.current = active.id;
      return t('social.reorder.picked', {
        title: titleOf(active.id),
        position: positionOf(active.id),
        total,
      });
    },
    // the first "over" is the item itself: saying "moved" then would talk over "picked up"
    onDragOver: ({ active, over }) => {
      if ((over?.id ?? null) === lastOver.current) return undefined;
      lastOver.current = over?.id ?? null;
      return over
        ? t('social.reorder.moved', { title: titleOf(active.id), position: positionOf(over.id), total })
        : t('social.reorder.outside', { title: titleOf(active.id) });
    },
    onDragEnd: ({ active, over }) =>
      over
        ? t('social.reorder.dropped', { title: titleOf(active.id), position: positionOf(over.id), total })
        : t('social.reorder.cancelled', { title: titleOf(active.id) }),
    onDragCancel: ({ active }) =>
      t('social.reorder.cancelled', { title: titleOf(active.id), position: positionOf(active.id), total }),
  };
  const screenReaderInstructions: ScreenReaderInstructions = { draggable: t('social.reorder.instructions') };
  const onDragEnd = ({ active, over }: DragEndEvent) => {
    if (!over || active.id === over.id) return;
    const next = arrayMove(order, order.indexOf(String(active.id)), order.indexOf(String(over.id)));
    setOrder(next);
    reorder.mutate(next);
  };
  const list = (
    <ol className="collection-items">
      {order.map((id, index) => {
        const item = byId.get(id);
        return item ? (
          <Item
            key={id}
            collectionId={collectionId}
            item={item}
            position={index + 1}
            total={total}
            editable={editable}
            sortable={canSort}
            label={titleOf(id)}
          />
        ) : null;
      })}
    </ol>
  );
  return (
    <>
      {canSort && <p className="muted small">{t('social.reorder.hint')}</p>}
      {canSort ? (
        <DndContext
          sensors={sensors}
          collisionDetection={closestCenter}
          onDragEnd={onDragEnd}
          accessibility={{ announcements, screenReaderInstructions }}
        >
          <SortableContext items={order} strategy={verticalListSortingStrategy}>
            {list}
          </SortableContext>
        </DndContext>
      ) : (
        list
      )}
      <p role="status" className="small reorder-status">
        {reorder.isPending ? t('social.reorder.saving') : reorder.isSuccess ? t('social.reorder.saved') : ''}
      </p>
      {reorder.isError && <ErrorMessage error={reorder.error} />}
    </>
  );
}

const snippet = (text: string) => (text.length > 60 ? `${text.slice(0, 57).trimEnd()}…` : text);

function Item({
  collectionId,
  item,
  position,
  total,
  editable,
  sortable,
  label,
}: {
  collectionId: string;
  item: CollectionItem;
  position: number;
  total: number;
  editable: boolean;
  sortable: boolean;
  label: string;
}) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const { attributes, listeners, setNodeRef, setActivatorNodeRef, transform, transition, isDragging } =
    useSortable({ id: item.postId, disabled: !sortable, transition: reducedMotion() ? null : undefined });
  const remove = useMutation({
    mutationFn: () => collections.removePost(collectionId, item.postId),
    onSuccess: () => refreshCollections(queryClient),
  });
  const post = item.post;
  return (
    <li
      ref={setNodeRef}
      className={`collection-item${isDragging ? ' dragging' : ''}`}
      style={{ transform: CSS.Translate.toString(transform), transition }}
      data-post-id={item.postId}
    >
      {sortable && (
        <button
          type="button"
          ref={setActivatorNodeRef}
          className="button ghost drag-handle"
          {...attributes}
          {...listeners}
          aria-label={t('social.reorder.handle', { title: label, position, total })}
        >
          <span aria-hidden="true">⠿</span>
        </button>
      )}
      <div className="collection-item-body">
        {post ? (
          <>
            <p className="small muted">
              <span data-user-content>{post.author.displayName}</span> · <TimeAgo iso={post.createdAt} />
            </p>
            <p className="collection-item-text" data-user-content>
              {snippet(post.text)}
            </p>
            <Link to="/posts/$postId" params={{ postId: post.id }} className="small">
              {t('social.collections.openPost')}
              <span className="visually-hidden">: {label}</span>
            </Link>
          </>
        ) : (
          <p className="muted">{t('social.collections.gone')}</p>
        )}
      </div>
      {editable && (
        <button
          type="button"
          className="button ghost"
          disabled={remove.isPending}
          aria-label={t('social.collections.removeOf', { title: label })}
          onClick={() => remove.mutate()}
        >
          {t('social.collections.remove')}
        </button>
      )}
      {remove.isError && <ErrorMessage error={remove.error} />}
    </li>
  );
}
