/** JSON Pointer (RFC 6901) reference tokens: `~` and `/` escaped as `~0` and `~1`. */
export const escapePointer = (segment: string): string => segment.replace(/~/g, '~0').replace(/\//g, '~1')
export const unescapePointer = (segment: string): string => segment.replace(/~1/g, '/').replace(/~0/g, '~')
