// @ts-nocheck — deliberately wrong; deployr must catch it at run time, whatever the types said.
import { defineConfig } from 'deployr';

export const config = defineConfig({ app: 'shop', environments: { prod: { hosts: ['web-1'] } } });
export const hosts = ['web-1'];
