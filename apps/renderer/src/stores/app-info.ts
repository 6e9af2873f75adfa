import type { AppInfo } from '@keel/core/contract';
import { create } from 'zustand';

interface AppInfoState {
  info: AppInfo | null;
  error: string | null;
  set(info: AppInfo): void;
  fail(message: string): void;
}

export const useAppInfo = create<AppInfoState>((set) => ({
  info: null,
  error: null,
  set: (info) => set({ info, error: null }),
  fail: (error) => set({ error }),
}));
