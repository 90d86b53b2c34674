/**
 * Calibration moved to `src/sensors/` (the physics of every sensor kind in one place); this
 * module re-exports it so existing imports keep working.
 */
export { calibrate, type Calibrated, type PhysicsConfig, type PhysicsContext } from '../sensors/physics.ts';
export { tipDelta, MAX_WRAP_TIPS, TIP_COUNTER_MODULO, type TipDelta } from '../sensors/rain.ts';
