export declare const START: string;
export declare const END: string;
export declare const PLUGIN_PACKAGES: string[];
export declare function typeOf(p: unknown): string;
export declare function allowedOf(p: unknown): string;
export declare function describeOptions(z: unknown, schema: unknown): { name: string; type: string; default: string; allowed: string; description: string }[];
export declare function renderOptions(z: unknown, plugins: readonly { kind: string; name: string; description: string; options: unknown }[], pkgName: string): string;
export declare function spliceReadme(readme: string, body: string): string;
