import type { ServiceContext } from '../context';

export class AdminService {
  constructor(private readonly ctx: ServiceContext) {}
}
