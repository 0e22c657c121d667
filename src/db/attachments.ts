import { prepared, type Db } from './index.js';

export interface Attachment {
  id: number;
  ticketId: number;
  messageId: number;
  storageName: string;
  originalName: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  createdAt: number;
}

const ATTACHMENT_COLUMNS = `a.id, a.ticket_id AS ticketId, a.message_id AS messageId, a.storage_name AS storageName,
  a.original_name AS originalName, a.content_type AS contentType, a.size_bytes AS sizeBytes, a.sha256, a.created_at AS createdAt`;

export type NewAttachment = Omit<Attachment, 'id' | 'createdAt'> & { now: number };

export function insertAttachment(db: Db, attachment: NewAttachment): number {
  const { lastInsertRowid } = prepared(
    db,
    `INSERT INTO attachments (ticket_id, message_id, storage_name, original_name, content_type, size_bytes, sha256, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    attachment.ticketId,
    attachment.messageId,
    attachment.storageName,
    attachment.originalName,
    attachment.contentType,
    attachment.sizeBytes,
    attachment.sha256,
    attachment.now,
  );
  return Number(lastInsertRowid);
}

/** Attachment A of ticket N: undefined when A does not belong to N (or is on an internal note and those are hidden). */
export function ticketAttachment(db: Db, ticketId: number, attachmentId: number, includeInternal: boolean): Attachment | undefined {
  return prepared(
    db,
    `SELECT ${ATTACHMENT_COLUMNS} FROM attachments a JOIN messages m ON m.id = a.message_id
     WHERE a.id = ? AND a.ticket_id = ? AND (m.internal = 0 OR ?)`,
  ).get(attachmentId, ticketId, includeInternal ? 1 : 0) as Attachment | undefined;
}

export function ticketAttachments(db: Db, ticketId: number): Attachment[] {
  return prepared(db, `SELECT ${ATTACHMENT_COLUMNS} FROM attachments a WHERE a.ticket_id = ? ORDER BY a.id`).all(ticketId) as Attachment[];
}

export function attachmentStorageNameExists(db: Db, storageName: string): boolean {
  return prepared(db, 'SELECT 1 FROM attachments WHERE storage_name = ?').get(storageName) !== undefined;
}
