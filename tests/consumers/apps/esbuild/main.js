import { check } from '../../check.js';
import { show } from '../page.js';

show(check);
