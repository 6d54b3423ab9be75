import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';
import { LiveProvider } from './lib/live';
import { Router } from './lib/router';
import './styles.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Router>
      <LiveProvider>
        <App />
      </LiveProvider>
    </Router>
  </StrictMode>,
);
