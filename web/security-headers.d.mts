export declare const apiOrigins: (apiUrl: string) => string[];
export declare const securityHeaders: (apiUrl: string) => Record<string, string>;
export declare const pagesHeadersFile: (apiUrl: string) => string;
export declare const buildApiUrl: (env: Record<string, string | undefined>) => string;
