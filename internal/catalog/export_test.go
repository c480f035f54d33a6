package catalog

import "context"

// SearchEveryMatch runs q as Search does, but ranks every match in one
// try: the page every first try must give whenever it answers.
func (s *Service) SearchEveryMatch(ctx context.Context, q SearchQuery) (SearchPage, error) {
	q.normalise()
	if err := q.Validate(); err != nil {
		return SearchPage{}, err
	}
	return runSearch(ctx, s.db, s.expansions, q, func(SearchQuery, *cursor) []scope { return []scope{{}} })
}

// TitlesFirstAnswers says whether ranking titles first answers the first
// page of q (a search by relevance, across the country or near a point)
// on its own.
func (s *Service) TitlesFirstAnswers(ctx context.Context, q SearchQuery) (bool, error) {
	q.normalise()
	groups, err := s.expansions.groups(ctx, s.db, q.Text)
	if err != nil || len(groups) == 0 {
		return false, err
	}
	_, complete, err := searchPage(ctx, s.db, q, groups, nil, scope{titles: true})
	return complete, err
}
