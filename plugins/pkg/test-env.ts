// Kept for the built-ins' older tests: the SetupEnv fake now lives in the public kit ('nodens/testing').
export { directiveOf, freePort, testEnv, type TestEnv, type TestEnvOptions } from '../../core/test-env.js';
