/** App, environment and component names as the agent takes them (the same rule as the control plane's `APP_NAME`). */
export const NAME = /^[a-z][a-z0-9-]{0,62}$/;
