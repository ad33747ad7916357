'use client';
// A client component that imports the package at the top level; the page is prerendered at
// build time (in Node), then hydrated in the browser, where the check runs.
import { useEffect } from 'react';
import { check } from '../../../check.js';
import { show } from '../../page.js';

export default function Page() {
  useEffect(() => show(check), []);
  return <pre id="result">pending</pre>;
}
