import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Search attributes broadloom sets on its workflows, so runs can be found in the Web UI
 * (e.g. `BroadloomPipeline = "broad" AND BroadloomStatus = "failed"`). Registered when the dev server starts.
 */
export const BroadloomPipeline = defineSearchAttributeKey('BroadloomPipeline', SearchAttributeType.KEYWORD);
export const BroadloomProject = defineSearchAttributeKey('BroadloomProject', SearchAttributeType.KEYWORD);
export const BroadloomStage = defineSearchAttributeKey('BroadloomStage', SearchAttributeType.KEYWORD_LIST);
export const BroadloomStatus = defineSearchAttributeKey('BroadloomStatus', SearchAttributeType.KEYWORD);
export const BroadloomChampion = defineSearchAttributeKey('BroadloomChampion', SearchAttributeType.KEYWORD);

/** `name=Type` pairs for `temporal server start-dev --search-attribute` and the operator service. */
export const SEARCH_ATTRIBUTES: ReadonlyArray<readonly [string, 'Keyword' | 'KeywordList']> = [
  ['BroadloomPipeline', 'Keyword'],
  ['BroadloomProject', 'Keyword'],
  ['BroadloomStage', 'KeywordList'],
  ['BroadloomStatus', 'Keyword'],
  ['BroadloomChampion', 'Keyword'],
];
