/**
 * Types for jose's deep import under this project's `moduleResolution: node`, which ignores a package's
 * `exports` map (jose 6 has nothing else). Types only: esbuild, jest and tsx resolve the module through `exports`.
 */
declare module 'jose/jwt/sign' {
  export { SignJWT } from 'jose/dist/types/jwt/sign';
}
