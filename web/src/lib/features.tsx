import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { loadFeatures, NO_FEATURES, type Features } from '../api/features';

const FeaturesContext = createContext<Features>(NO_FEATURES);

/** Reads the server's OpenAPI document once, so pages show only what this server can do. */
export function FeaturesProvider({ children }: { children: ReactNode }) {
  const [features, setFeatures] = useState<Features>(NO_FEATURES);
  useEffect(() => {
    loadFeatures().then(setFeatures, () => setFeatures(NO_FEATURES));
  }, []);
  return <FeaturesContext.Provider value={features}>{children}</FeaturesContext.Provider>;
}

export const useFeatures = () => useContext(FeaturesContext);
