-- +goose Up
-- What employees type, mapped to the words offerings use, and the function
-- that turns a search text into weighted groups of alternatives (one group
-- per meaningful word) for internal/catalog/search.go.

-- catalog_lexeme_key is the stemmed, accent-free form of s, word by word
-- ("Mal di schiena" → "mal schien"): how synonyms meet the words of a query.
-- +goose StatementBegin
CREATE FUNCTION catalog_lexeme_key(s text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN (SELECT string_agg(lexeme, ' ' ORDER BY positions[1]) FROM unnest(to_tsvector('reciproca_it', s)));
-- +goose StatementEnd

-- A synonym adds the related words or phrases (comma-separated) as
-- alternatives of term wherever a query says term. Terms of up to three
-- words; stop words ("di", "per") do not count.
CREATE TABLE catalog_synonyms (
    term      text PRIMARY KEY CHECK (length(btrim(term)) > 0),
    related   text NOT NULL CHECK (length(btrim(related)) > 0),
    term_key  text GENERATED ALWAYS AS (catalog_lexeme_key(term)) STORED
);
CREATE INDEX catalog_synonyms_key_idx ON catalog_synonyms (term_key);

INSERT INTO catalog_synonyms (term, related) VALUES
-- childcare: people, ages, situations
('tata', 'babysitter, baby sitter'),
('babysitter', 'tata, baby sitter'),
('baby sitter', 'babysitter, tata'),
('nanny', 'babysitter, tata'),
('bimbo', 'bambini'), ('bimba', 'bambini'), ('bimbi', 'bambini'), ('bambina', 'bambini'), ('bebè', 'bambini, infanzia'),
('neonato', 'infanzia, micronido, nido'), ('lattante', 'micronido, nido'),
('figlio', 'bambini, ragazzi'), ('figlia', 'bambini, ragazzi'), ('figli', 'bambini, ragazzi'),
('asilo', 'nido, micronido, infanzia'), ('asilo nido', 'micronido, nido'), ('nido', 'micronido'),
('ludoteca', 'spazio gioco'), ('giocare', 'gioco'), ('mamma', 'genitori'), ('papà', 'genitori'),
('bambino malato', 'febbre, emergenze'), ('figlio malato', 'febbre, emergenze'), ('febbre', 'malati, emergenze'), ('influenza', 'febbre, malati'),
('sciopero', 'emergenze'), ('urgente', 'emergenze, preavviso'), ('urgenza', 'emergenze, preavviso'),
('sera', 'serale, sera'), ('stasera', 'sera, emergenze'),
-- after school
('compiti', 'doposcuola, aiuto compiti'), ('dopo scuola', 'doposcuola'), ('pomeriggio', 'doposcuola'),
('dislessia', 'dsa, disturbi specifici apprendimento'), ('dislessico', 'dsa, disturbi specifici apprendimento'),
('discalculia', 'dsa, disturbi specifici apprendimento'), ('disgrafia', 'dsa, disturbi specifici apprendimento'),
('dsa', 'disturbi specifici apprendimento'), ('bes', 'dsa, disturbi specifici apprendimento'),
('tutor', 'ripetizioni, aiuto compiti'), ('lezioni private', 'ripetizioni'), ('recupero', 'ripetizioni'),
('insufficienza', 'ripetizioni, recuperare'), ('debito', 'ripetizioni, recuperare'),
('scuola media', 'medie'), ('liceo', 'superiori'), ('superiori', 'liceo'), ('elementari', 'primaria'),
('studiare', 'studio, metodo di studio'),
-- summer camps
('campo estivo', 'centro estivo, campus estivo'), ('centro estivo', 'campo estivo, campus estivo'),
('grest', 'centro estivo, oratorio'), ('oratorio', 'centro estivo'), ('estate', 'estivo, centro estivo'),
('vacanza', 'estivo, campus'), ('vacanze', 'estivo, campus'), ('colonia', 'centro estivo'),
('campeggio', 'campo estivo, settimana in montagna'), ('campus', 'campo estivo, centro estivo'),
-- elder care
('nonno', 'anziani'), ('nonna', 'anziani'), ('nonni', 'anziani'), ('anziano', 'anziani'), ('anziana', 'anziani'),
('genitore anziano', 'anziani'), ('terza età', 'anziani'),
('badante', 'assistente familiare, assistenza domiciliare'), ('assistente familiare', 'badante'),
('colf', 'badante, assistente familiare'),
('oss', 'operatori socio sanitari'), ('infermiere', 'operatori socio sanitari, assistenza domiciliare'),
('alzheimer', 'demenza, stimolazione cognitiva'), ('demenza', 'alzheimer, stimolazione cognitiva'),
('parkinson', 'riabilitazione, non autosufficiente'),
('non autosufficiente', 'non autosufficienti, assistenza domiciliare'),
('allettato', 'non autosufficiente, assistenza domiciliare'),
('disabile', 'disabilità, non autosufficiente'), ('handicap', 'disabilità, non autosufficiente'),
('invalidità', 'caregiver'), ('legge 104', 'caregiver, invalidità'),
('rsa', 'residenza, ricoveri di sollievo, centro diurno'), ('casa di riposo', 'residenza, ricoveri di sollievo, centro diurno'),
('ricovero', 'ricoveri di sollievo, residenza'), ('sollievo', 'ricoveri di sollievo'),
('caregiver', 'familiari che assistono'), ('solitudine', 'compagnia'),
-- physiotherapy
('fisioterapista', 'fisioterapia, riabilitazione'), ('fisio', 'fisioterapia'), ('fisiatra', 'fisioterapia, riabilitazione'),
('mal di schiena', 'posturale, schiena, fisioterapia'), ('schiena', 'posturale'), ('lombalgia', 'schiena, posturale'),
('cervicale', 'collo, posturale'), ('sciatica', 'schiena, posturale'), ('postura', 'posturale'), ('ernia', 'schiena, posturale'),
('massaggio', 'massoterapia, linfodrenaggio'), ('massaggi', 'massoterapia, linfodrenaggio'), ('massaggiatore', 'massoterapia'),
('osteopata', 'osteopatia, fisioterapia'), ('chiropratico', 'fisioterapia, posturale'),
('ginocchio', 'riabilitazione'), ('menisco', 'ginocchio, riabilitazione'), ('crociato', 'ginocchio, riabilitazione'),
('legamento', 'riabilitazione, lesioni'), ('frattura', 'riabilitazione'), ('distorsione', 'riabilitazione'),
('operazione', 'intervento, riabilitazione'), ('protesi', 'intervento, riabilitazione'), ('ictus', 'riabilitazione, fisioterapia'),
('gambe gonfie', 'linfodrenaggio'), ('ritenzione', 'linfodrenaggio'), ('tendinite', 'riabilitazione, fisioterapia'),
-- psychological support
('psicologa', 'psicologo, psicologica'), ('psicoterapeuta', 'psicoterapia, psicologo'), ('terapeuta', 'psicoterapia, psicologo'),
('strizzacervelli', 'psicologo'), ('terapia', 'psicoterapia, sostegno psicologico'),
('ansia', 'sostegno psicologico, psicologo'), ('panico', 'ansia, psicologo'), ('attacchi di panico', 'ansia, psicologo'),
('depressione', 'sostegno psicologico, psicologo'), ('stress', 'sostegno psicologico, psicologo'),
('burnout', 'stress da lavoro, psicologo'), ('esaurimento', 'stress, psicologo'), ('insonnia', 'stress, psicologo'),
('lutto', 'sostegno psicologico'), ('perdita', 'lutti, sostegno psicologico'),
('separazione', 'mediazione familiare, separano'), ('divorzio', 'mediazione familiare, separano'),
('separarsi', 'mediazione familiare'), ('affidamento', 'mediazione familiare, figli'),
('coppia', 'mediazione familiare, coppie'), ('terapia di coppia', 'mediazione familiare, coppie'),
('adolescente', 'adolescenti, età evolutiva'), ('adolescenza', 'adolescenti, età evolutiva'),
('supporto psicologico', 'sostegno psicologico, psicologo'), ('counselor', 'counseling'),
('parlare', 'ascolto, colloqui'), ('ascolto', 'colloqui, sostegno'),
-- courses
('corso', 'corsi, lezioni'), ('lezione', 'lezioni, corso'), ('imparare', 'corso, lezioni'),
('english', 'inglese'), ('lingua', 'lingue'), ('lingue straniere', 'lingue, inglese'),
('computer', 'informatica'), ('pc', 'informatica, computer'), ('internet', 'informatica, posta elettronica'),
('email', 'posta elettronica'), ('mail', 'posta elettronica'),
('smartphone', 'informatica'), ('cellulare', 'smartphone'), ('telefonino', 'smartphone'),
('identità digitale', 'spid'), ('cie', 'spid'), ('fascicolo', 'fascicolo sanitario'),
('italiano', 'italiano per stranieri, lingua italiana'), ('stranieri', 'italiano per stranieri'),
('immigrati', 'italiano per stranieri, arrivati da poco'), ('cittadinanza', 'italiano per stranieri, certificazione'),
('cucinare', 'cucina'), ('ricette', 'cucina'), ('cuoco', 'cucina'),
('pronto soccorso', 'primo soccorso'), ('rianimazione', 'primo soccorso'), ('blsd', 'primo soccorso'),
('soffocamento', 'disostruzione, primo soccorso'), ('heimlich', 'disostruzione, primo soccorso'),
-- sport
('piscina', 'nuoto'), ('nuotare', 'nuoto'), ('acquaticità', 'nuoto'),
('fitness', 'palestra'), ('allenamento', 'palestra'), ('pesi', 'sala attrezzi, palestra'), ('gym', 'palestra'),
('ginnastica', 'palestra, ginnastica posturale'), ('attività fisica', 'sport, palestra'),
('camminata', 'cammino, camminate'), ('camminare', 'cammino, camminate'), ('passeggiata', 'cammino, camminate'),
('nordic walking', 'cammino, camminate'), ('trekking', 'escursioni, camminate'), ('escursione', 'escursioni, camminate'),
('scalare', 'arrampicata'), ('roccia', 'arrampicata, falesia'), ('bouldering', 'arrampicata'),
('barca', 'vela'), ('kayak', 'canoa'), ('meditazione', 'yoga'),
-- culture
('spettacolo', 'teatro'), ('spettacoli', 'teatro'), ('prosa', 'teatro'), ('concerto', 'musica, stagione'),
('chitarra', 'lezioni di musica'), ('pianoforte', 'lezioni di musica'), ('piano', 'pianoforte, lezioni di musica'),
('canto', 'lezioni di musica'), ('cantare', 'canto, lezioni di musica'), ('batteria', 'lezioni di musica'),
('violino', 'lezioni di musica'), ('strumento', 'lezioni di musica'), ('suonare', 'lezioni di musica'),
('mostra', 'musei, visite guidate'), ('musei', 'visite guidate'), ('visita guidata', 'visite guidate'),
('foto', 'fotografia'), ('fotografo', 'fotografia'), ('reflex', 'fotografia'),
-- concierge and errands
('commissione', 'commissioni, maggiordomo aziendale'), ('commissioni', 'maggiordomo aziendale'),
('maggiordomo', 'commissioni'), ('faccende', 'commissioni'), ('sbrigare', 'commissioni, pratiche'),
('bollette', 'bollettini, commissioni'), ('bolletta', 'bollettini, commissioni'), ('posta', 'commissioni, bollettini'),
('referti', 'ritiro referti'), ('pratiche', 'pratiche in comune, commissioni'), ('anagrafe', 'pratiche in comune'),
('supermercato', 'spesa a domicilio'), ('alimentari', 'spesa a domicilio'), ('consegna', 'spesa a domicilio, consegne'),
('macchina', 'auto'), ('automobile', 'auto'), ('vettura', 'auto'),
('tagliando', 'revisione auto'), ('meccanico', 'revisione auto'), ('gomme', 'auto'), ('autolavaggio', 'lavaggio auto'),
('sarta', 'sartoria, riparazioni sartoriali'), ('sarto', 'sartoria, riparazioni sartoriali'),
('orlo', 'orli, sartoria, riparazioni sartoriali'), ('orli', 'sartoria, riparazioni sartoriali'), ('cerniera', 'cerniere, sartoria'), ('zip', 'cerniere, sartoria'),
('rammendo', 'riparazioni sartoriali'), ('pantaloni', 'orli, sartoria, riparazioni sartoriali'), ('vestiti', 'capi, sartoria, lavanderia'),
-- laundry
('stirare', 'stireria, stirato'), ('stiro', 'stireria'), ('camicie', 'stireria, biancheria'), ('camicia', 'stireria'),
('lavare', 'lavanderia, lavaggio'), ('bucato', 'lavanderia'), ('lavatrice', 'lavanderia, bucato'),
('tintoria', 'lavanderia'), ('lavasecco', 'lavanderia, capi delicati'),
('piumone', 'piumoni'), ('piumino', 'piumoni'), ('coperta', 'piumoni'), ('trapunta', 'piumoni'), ('tappeto', 'tappeti'),
('lenzuola', 'biancheria, lavanderia'),
-- transport
('bus', 'autobus'), ('pullman', 'autobus'), ('corriera', 'autobus, linee extraurbane'),
('treno', 'ferroviario, abbonamento treno'), ('trenord', 'treno'), ('ferrovia', 'treno'), ('pendolare', 'abbonamento treno, abbonamento mensile'),
('battello', 'battelli, navigazione'), ('traghetto', 'battelli, navigazione'), ('navigazione', 'battelli'),
('metro', 'trasporto pubblico'), ('metropolitana', 'trasporto pubblico'), ('mezzi pubblici', 'trasporto pubblico, abbonamento'),
('abbonamento mensile', 'abbonamento'), ('tessera', 'abbonamento'),
-- common abbreviations and words of the providers' world
('coop', 'cooperativa'), ('asd', 'associazione sportiva dilettantistica'), ('onlus', 'associazione'),
('prof', 'insegnanti');

-- catalog_query_groups turns a search text into one group per meaningful
-- word (at most 10): the word's lexeme OR its alternatives, which are the
-- related terms of synonyms over one to three words; the catalogue word a
-- misspelt word was meant to be (same first letter, edit distance 1, or 2
-- from eight letters; none under five letters, where a near miss is
-- another word); the two words a compound splits into ("babysitter" →
-- "baby sitter"); the word two adjacent words make when joined, in both
-- groups ("dopo scuola" → "doposcuola"). exact is the group without the
-- synonyms (what the employee wrote, corrected); weight is the word's
-- rarity in the catalogue, so that "yoga" counts more than "corso".
-- +goose StatementBegin
CREATE FUNCTION catalog_query_groups(q text)
RETURNS TABLE (query tsquery, exact tsquery, weight double precision)
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    words  text[] := '{}';   -- the meaningful words, folded, in order
    lexes  text[] := '{}';   -- their lexemes
    alts   text[] := '{}';   -- '<group>:<tsquery>', one per alternative
    fixes  text[] := '{}';   -- '<group>:<lexeme>', what misspelt words were meant to be
    forms  text[];           -- the word as typed and as corrected
    total  double precision;
    w text; lx text; l text; r text; form text; cand record; syn record; phrase text;
    df integer; i integer; j integer; k integer; n integer; splits integer; nexact integer;
BEGIN
    FOREACH w IN ARRAY regexp_split_to_array(catalog_fold(left(q, 200)), '[^[:alnum:]]+') LOOP
        lx := catalog_lexeme_key(w);
        CONTINUE WHEN w = '' OR lx IS NULL OR position(' ' IN lx) > 0 OR lx = ANY (lexes);
        EXIT WHEN cardinality(lexes) = 10;
        words := words || w;
        lexes := lexes || lx;
        i := cardinality(lexes);
        alts := alts || format('%s:%L', i, lx);
        forms := ARRAY[w];
        -- A word that is in no offering and means nothing to the synonyms may be misspelt.
        IF length(lx) >= 5
           AND NOT EXISTS (SELECT 1 FROM catalog_lexemes c WHERE c.lexeme = lx AND c.ndoc > 0)
           AND NOT EXISTS (SELECT 1 FROM catalog_synonyms s WHERE s.term_key = lx) THEN
            FOR cand IN SELECT c.lexeme FROM catalog_lexemes c
                         WHERE c.lexeme % lx AND c.ndoc > 0 AND left(c.lexeme, 1) = left(lx, 1)
                           AND levenshtein(c.lexeme, lx) <= CASE WHEN length(lx) >= 8 THEN 2 ELSE 1 END
                         ORDER BY levenshtein(c.lexeme, lx), similarity(c.lexeme, lx) DESC, c.ndoc DESC LIMIT 2 LOOP
                alts := alts || format('%s:%L', i, cand.lexeme);
                fixes := fixes || format('%s:%s', i, cand.lexeme);
                forms := forms || cand.lexeme;
            END LOOP;
        END IF;
        -- The word, or what a typo was meant to be, may be two words joined.
        splits := 0;
        FOREACH form IN ARRAY forms LOOP
            CONTINUE WHEN length(form) < 7;
            FOR k IN 3 .. length(form) - 3 LOOP
                l := catalog_lexeme_key(left(form, k));
                r := catalog_lexeme_key(substr(form, k + 1));
                CONTINUE WHEN l IS NULL OR r IS NULL OR position(' ' IN l || r) > 0;
                CONTINUE WHEN (SELECT count(*) FROM catalog_lexemes c WHERE c.lexeme IN (l, r) AND c.ndoc > 0) < 2;
                alts := alts || format('%s:%L <-> %L', i, l, r);
                splits := splits + 1;
                EXIT WHEN splits = 2;
            END LOOP;
        END LOOP;
        IF i > 1 THEN
            l := catalog_lexeme_key(words[i - 1] || w);
            IF l IS NOT NULL AND EXISTS (SELECT 1 FROM catalog_lexemes c WHERE c.lexeme = l AND c.ndoc > 0) THEN
                alts := alts || format('%s:%L', i - 1, l) || format('%s:%L', i, l);
            END IF;
        END IF;
    END LOOP;
    n := cardinality(lexes);
    nexact := cardinality(alts);
    FOR i IN 1 .. n LOOP
        FOR k IN i .. least(i + 2, n) LOOP
            FOR syn IN SELECT s.related FROM catalog_synonyms s
                        WHERE s.term_key = array_to_string(lexes[i:k], ' ')
                           OR k = i AND format('%s:%s', i, s.term_key) = ANY (fixes) LOOP
                FOREACH phrase IN ARRAY string_to_array(syn.related, ',') LOOP
                    CONTINUE WHEN numnode(phraseto_tsquery('reciproca_it', phrase)) = 0;
                    FOR j IN i .. k LOOP
                        alts := alts || format('%s:%s', j, phraseto_tsquery('reciproca_it', phrase));
                    END LOOP;
                END LOOP;
            END LOOP;
        END LOOP;
    END LOOP;
    SELECT greatest(c.reltuples, 1) INTO total FROM pg_class c WHERE c.oid = 'offerings'::regclass;
    FOR i IN 1 .. n LOOP
        SELECT string_agg(DISTINCT '(' || substr(a, length(i::text) + 2) || ')', ' | ')::tsquery INTO query
          FROM unnest(alts) a WHERE split_part(a, ':', 1) = i::text;
        SELECT string_agg(DISTINCT '(' || substr(a, length(i::text) + 2) || ')', ' | ')::tsquery INTO exact
          FROM unnest(alts[1:nexact]) a WHERE split_part(a, ':', 1) = i::text;
        -- A word is as rare as its most common alternative.
        SELECT max(c.ndoc) INTO df
          FROM regexp_matches(query::text, '''([^'']+)''', 'g') m JOIN catalog_lexemes c ON c.lexeme = m[1];
        weight := ln(1 + total / (1 + coalesce(df, 0)));
        RETURN NEXT;
    END LOOP;
END $$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION catalog_query_groups(text);
DROP TABLE catalog_synonyms;
DROP FUNCTION catalog_lexeme_key(text);
