export const hosts: string[] = [];

hosts.push(...(JSON.parse('{ not json') as string[]));
