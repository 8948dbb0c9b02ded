-- Collections: keep positions gap-free and item_count exact when a post is erased for good.

-- Erasing a post (an account's erasure cascades to its posts) deletes its collection items by
-- ON DELETE CASCADE; this index keeps that a lookup instead of a scan of every item.
CREATE INDEX collection_items_post_idx ON collection_items (post_id);

-- A cascade alone would leave a hole in other users' collections and a stale item_count. Before
-- the post goes, take each containing collection's row lock (the same lock every collection write
-- takes first, in id order), remove the item there and close the gap. A post that is only soft
-- deleted keeps its slot: its owner sees it as unavailable and may remove it.
CREATE FUNCTION collections_release_post() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  cid  uuid;
  gone integer;
BEGIN
  FOR cid IN
    SELECT c.id FROM collections c
     WHERE c.id IN (SELECT i.collection_id FROM collection_items i WHERE i.post_id = OLD.id)
     ORDER BY c.id
       FOR UPDATE OF c
  LOOP
    DELETE FROM collection_items WHERE collection_id = cid AND post_id = OLD.id RETURNING position INTO gone;
    IF FOUND THEN
      UPDATE collection_items SET position = position - 1 WHERE collection_id = cid AND position > gone;
      UPDATE collections SET item_count = item_count - 1, updated_at = now() WHERE id = cid;
    END IF;
  END LOOP;
  RETURN OLD;
END
$$;
CREATE TRIGGER posts_release_collection_items BEFORE DELETE ON posts
  FOR EACH ROW EXECUTE FUNCTION collections_release_post();
