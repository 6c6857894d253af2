// TEST DOUBLE of Immich v3.2.0's authentication: server/src/services/auth.service.ts (adminSignUp,
// login, validate) and the shapes SignUpDto / LoginResponseDto / UserAdminResponseDto of
// `@immich/sdk@3.2.2` (docs/upstream/immich-runtime.md §7).
// Simplified: scrypt instead of bcrypt; Bearer / x-immich-user-token / cookie sessions only (no API
// keys, OAuth or shared links); sessions are the `session` table with the token's sha256.
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import validator from 'validator';
import type { Database } from './database.js';
import { HttpError, stringField } from './http-util.js';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

export interface AuthUser {
  id: string;
  email: string;
  name: string;
  isAdmin: boolean;
}

interface UserRow extends AuthUser {
  password: string;
  storageLabel: string | null;
  shouldChangePassword: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString('base64')}$${(await scryptAsync(password, salt, 32)).toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64'), expected.length);
  return timingSafeEqual(expected, actual);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function userAdminResponse(u: UserRow) {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    isAdmin: u.isAdmin,
    storageLabel: u.storageLabel,
    shouldChangePassword: u.shouldChangePassword,
    profileImagePath: '',
    oauthId: '',
    quotaSizeInBytes: null,
    quotaUsageInBytes: 0,
    status: 'active',
    createdAt: u.createdAt.toISOString(),
    updatedAt: u.updatedAt.toISOString(),
    deletedAt: null,
    license: null,
  };
}

/** POST /api/auth/admin-sign-up: only while there is no admin. */
export async function adminSignUp(db: Database, body: Record<string, unknown>) {
  const email = stringField(body, 'email')?.toLowerCase();
  const name = stringField(body, 'name');
  const password = stringField(body, 'password');
  const problems: string[] = [];
  if (!email || !validator.isEmail(email)) problems.push('email must be an email');
  if (!name) problems.push('name should not be empty');
  if (!password) problems.push('password should not be empty');
  if (problems.length > 0) throw new HttpError(400, problems);
  const { rows: admins } = await db.query('SELECT 1 FROM "user" WHERE "isAdmin"');
  if (admins.length > 0) throw new HttpError(400, 'The server already has an admin');
  const { rows } = await db.query<UserRow>(
    `INSERT INTO "user" (email, name, password, "isAdmin", "storageLabel", "shouldChangePassword")
     VALUES ($1, $2, $3, true, 'admin', false) RETURNING *`,
    [email, name, await hashPassword(password!)],
  );
  return userAdminResponse(rows[0]!);
}

/** POST /api/auth/login: a new session; the token is returned once and stored hashed. */
export async function login(db: Database, body: Record<string, unknown>) {
  const email = stringField(body, 'email')?.toLowerCase() ?? '';
  const password = stringField(body, 'password') ?? '';
  const { rows } = await db.query<UserRow>('SELECT * FROM "user" WHERE email = $1', [email]);
  const user = rows[0];
  if (!user || !(await verifyPassword(password, user.password))) throw new HttpError(401, 'Incorrect email or password');
  const accessToken = randomBytes(32).toString('base64url');
  await db.query('INSERT INTO session (token, "userId") VALUES ($1, $2)', [sha256(accessToken), user.id]);
  return {
    accessToken,
    userId: user.id,
    userEmail: user.email,
    name: user.name,
    isAdmin: user.isAdmin,
    isOnboarded: false,
    profileImagePath: '',
    shouldChangePassword: user.shouldChangePassword,
  };
}

function tokenOf(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header?.toLowerCase().startsWith('bearer ')) return header.slice(7).trim();
  const userToken = req.headers['x-immich-user-token'];
  if (typeof userToken === 'string') return userToken;
  const cookie = /(?:^|;\s*)immich_access_token=([^;]+)/.exec(req.headers.cookie ?? '');
  return cookie?.[1];
}

/** The session's user, or 401 (`Authentication required`) / 403 for a non-admin on an admin route. */
export async function authenticate(db: Database, req: IncomingMessage, { admin = false } = {}): Promise<AuthUser> {
  const token = tokenOf(req);
  if (!token) throw new HttpError(401, 'Authentication required');
  const { rows } = await db.query<AuthUser>(
    'SELECT u.id, u.email, u.name, u."isAdmin" FROM session s JOIN "user" u ON u.id = s."userId" WHERE s.token = $1',
    [sha256(token)],
  );
  const user = rows[0];
  if (!user) throw new HttpError(401, 'Invalid user token');
  if (admin && !user.isAdmin) throw new HttpError(403, 'Forbidden');
  return user;
}
