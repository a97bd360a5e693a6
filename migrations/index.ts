// Every migration, in order. Listed here rather than globbed so that ESM builds need no loader tricks.
import { InitialSchema1764100000000 } from './1764100000000-initial-schema.js';
import { ObjectStore1796549896527 } from './1796549896527-object-store.js';
import { KeysetAndCounts1796549896528 } from './1796549896528-keyset-and-counts.js';
import { StorageJobStep1796555000001 } from './1796555000001-storage-job-step.js';
import { ReviewCellReviews1796553000001 } from './1796553000001-review-cell-reviews.js';

export const migrations = [InitialSchema1764100000000, ObjectStore1796549896527, KeysetAndCounts1796549896528, ReviewCellReviews1796553000001, StorageJobStep1796555000001];
