/**
 * The shapes GraphQL resolvers receive as parents for types whose server objects differ from the
 * SDL (times as epoch ms, live state). The generated resolver types map SDL types onto these.
 */

/** A twin as the server holds it (structurally the engine's TwinView). */
export interface TwinParent {
  readonly model: string;
  readonly id: string;
  readonly state: unknown;
  readonly lat: number | undefined;
  readonly lng: number | undefined;
  /** epoch ms */
  readonly createdAt: number;
  /** epoch ms */
  readonly updatedAt: number;
  readonly lastError: { at: number; code: string; message: string } | null;
}

/** An alert as the server holds it (structurally the engine's AlertRecord). */
export interface AlertParent {
  id: string;
  model: string;
  twinId: string;
  severity: 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';
  title: string;
  message: string | null;
  /** epoch ms */
  at: number;
  acknowledged: boolean;
  data: unknown;
  /** the alarm lifecycle; absent on records stored before it (read as active, untyped, raised once) */
  type?: string | null;
  status?: 'ACTIVE' | 'CLEARED';
  count?: number;
  firstAt?: number;
  lastAt?: number;
  clearedAt?: number | null;
  assignee?: string | null;
  comments?: { at: number; author: string; text: string }[];
  change?: 'RAISE' | 'REPEAT' | 'SEVERITY' | 'CLEAR' | 'ACK' | 'ASSIGN' | 'COMMENT';
}

/** One event of a `twinChanges` continuous query. */
export interface TwinChangeParent {
  kind: 'ENTER' | 'UPDATE' | 'LEAVE';
  id: string;
  twin: TwinParent | null;
}
