import { parse } from 'sh-syntax';
const t0 = Date.now();
const ast = await parse(process.argv[2]);
console.error('ms', Date.now()-t0);
console.log(JSON.stringify(ast, (k,v)=> (k==='Pos'||k==='End'||k==='ValuePos'||k==='ValueEnd'||k==='OpPos'||k==='Position'||k==='Semicolon')?undefined:v, 1));
