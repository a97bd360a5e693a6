export { DatasetEntity } from './dataset.entity.js';
export { ImageEntity } from './image.entity.js';
export { CellEntity } from './cell.entity.js';
export { ModelEntity } from './model.entity.js';
export { JobEntity } from './job.entity.js';
export { EvaluationEntity } from './evaluation.entity.js';
export { EngineEntity } from './engine.entity.js';

import { DatasetEntity } from './dataset.entity.js';
import { ImageEntity } from './image.entity.js';
import { CellEntity } from './cell.entity.js';
import { ModelEntity } from './model.entity.js';
import { JobEntity } from './job.entity.js';
import { EvaluationEntity } from './evaluation.entity.js';
import { EngineEntity } from './engine.entity.js';

export const entities = [DatasetEntity, ImageEntity, CellEntity, ModelEntity, JobEntity, EvaluationEntity, EngineEntity];
