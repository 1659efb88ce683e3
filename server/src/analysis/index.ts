export * from './parser';
export * from './refs';
export * from './document';
