package seed

import "github.com/google/uuid"

// The demo catalogue: fictional providers of the province of Lecco and the
// services they offer, written for Reciproca. Names, VAT numbers, phone
// numbers and addresses are invented; towns and their coordinates are real.

// demoOffer is a kind of service several providers may offer.
type demoOffer struct {
	category, title, description, unit string
	price                              int64 // cents
	slots                              bool  // booked in time slots (courses, camps)
}

// demoOffers are indexed by the providers below.
var demoOffers = map[string]demoOffer{
	// childcare
	"nido":       {"childcare", "Micronido part-time", "Accoglienza al mattino per bambini da 12 a 36 mesi, in piccoli gruppi con educatrici qualificate. Pasto preparato nella nostra cucina con prodotti del territorio.", "month", 42000, false},
	"babysitter": {"childcare", "Babysitter a domicilio", "Educatrici con esperienza e primo soccorso pediatrico vengono a casa vostra, anche la sera e nei weekend. Ideale quando la scuola è chiusa o i bambini sono malati.", "hour", 1300, false},
	"spazio":     {"childcare", "Spazio gioco genitori e bambini", "Due mattine a settimana per bambini 0-3 anni con mamma, papà o nonni: gioco libero, letture, canzoni e un caffè tra genitori.", "month", 6000, false},
	"tata":       {"childcare", "Baby sitter per emergenze", "Una tata disponibile con poche ore di preavviso quando il bambino ha la febbre o c'è uno sciopero della scuola.", "hour", 1600, false},
	// after school
	"doposcuola":  {"after_school", "Doposcuola per la scuola primaria", "Dal lunedì al venerdì dalle 16 alle 18: merenda, compiti con educatori, giochi in cortile. Ritiro a piedi dalla scuola vicina.", "month", 16000, false},
	"compiti":     {"after_school", "Aiuto compiti medie", "Piccoli gruppi di ragazzi delle medie per organizzare lo studio, prepararsi alle verifiche e recuperare le materie più difficili.", "month", 13000, false},
	"dsa":         {"after_school", "Metodo di studio per ragazzi con DSA", "Percorso individuale con tutor formati sui disturbi specifici dell'apprendimento: strumenti compensativi, mappe, software di sintesi vocale.", "session", 3500, false},
	"ripetizioni": {"after_school", "Ripetizioni di matematica e inglese", "Lezioni individuali per studenti delle superiori, in sede o online, con insegnanti abilitati.", "hour", 2500, false},
	// summer camp
	"estivo":   {"summer_camp", "Centro estivo in oratorio", "Da metà giugno a fine luglio, per bambini dai 6 agli 11 anni: laboratori, piscina una volta a settimana, gite in montagna e al lago.", "week", 9500, true},
	"montagna": {"summer_camp", "Settimana in montagna in Valsassina", "Campo estivo con pernottamento in rifugio per ragazzi dagli 11 ai 14 anni: escursioni, orientamento e vita di gruppo.", "week", 32000, true},
	"vela":     {"summer_camp", "Campus estivo di vela sul lago", "Una settimana sul Lario per ragazzi dagli 8 ai 14 anni: barche a vela, canoa, nuoto e sicurezza in acqua con istruttori federali.", "week", 21000, true},
	// elder care
	"domiciliare": {"elder_care", "Assistenza domiciliare anziani", "Operatori socio-sanitari a casa per igiene personale, alzata, preparazione dei pasti e compagnia. Piano di assistenza concordato con la famiglia.", "hour", 2200, false},
	"diurno":      {"elder_care", "Centro diurno per anziani", "Dalle 9 alle 17 in un ambiente protetto: pranzo, attività di stimolazione cognitiva, ginnastica dolce e trasporto da casa.", "day", 4800, false},
	"sollievo":    {"elder_care", "Ricoveri di sollievo", "Accoglienza temporanea in residenza per dare respiro ai familiari che assistono una persona non autosufficiente.", "day", 9500, false},
	"caregiver":   {"elder_care", "Sportello per caregiver familiari", "Consulenza per chi assiste un genitore anziano: pratiche per l'invalidità, ausili, servizi del Comune e dell'ATS, gruppo di auto-mutuo aiuto.", "session", 3000, false},
	"badante":     {"elder_care", "Ricerca e affiancamento badante", "Selezioniamo l'assistente familiare, gestiamo il contratto e facciamo l'affiancamento nei primi giorni.", "item", 35000, false},
	// physiotherapy
	"fisio":          {"physiotherapy", "Fisioterapia a domicilio", "Il fisioterapista viene a casa per la riabilitazione dopo un intervento, una frattura o un ictus. Valutazione iniziale e programma di esercizi.", "session", 5000, false},
	"posturale":      {"physiotherapy", "Ginnastica posturale in piccoli gruppi", "Corsi serali di otto incontri per chi passa molte ore seduto: schiena, collo e spalle, con fisioterapisti.", "course", 9000, true},
	"riabilitazione": {"physiotherapy", "Riabilitazione sportiva", "Sedute individuali di fisioterapia dopo distorsioni, lesioni muscolari e interventi al ginocchio, con rientro graduale allo sport.", "session", 4500, false},
	"linfodrenaggio": {"physiotherapy", "Linfodrenaggio e massoterapia", "Trattamenti manuali eseguiti da massofisioterapisti, su indicazione del medico.", "session", 4000, false},
	// psychological support
	"psicologo": {"psychological_support", "Colloqui con lo psicologo", "Percorso di sostegno psicologico individuale per ansia, stress da lavoro, lutti e momenti difficili. Primo colloquio conoscitivo.", "session", 5500, false},
	"genitori":  {"psychological_support", "Consulenza per genitori", "Incontri con una psicologa dell'età evolutiva per affrontare insieme i dubbi sulla crescita dei figli, dalla nascita all'adolescenza.", "session", 5000, false},
	"coppia":    {"psychological_support", "Mediazione familiare", "Un mediatore aiuta i genitori che si separano a trovare accordi sulla cura dei figli.", "session", 6000, false},
	"gruppo":    {"psychological_support", "Gruppo di sostegno per chi assiste", "Incontri quindicinali condotti da uno psicologo per familiari di persone con demenza o disabilità.", "month", 4000, false},
	// courses
	"inglese":     {"courses", "Corso di inglese per adulti", "Lezioni serali in piccoli gruppi, dal livello principiante al B2, con docenti madrelingua. Materiali inclusi.", "course", 24000, true},
	"informatica": {"courses", "Informatica di base e SPID", "Corso pratico per usare computer e smartphone, la posta elettronica, lo SPID e il fascicolo sanitario.", "course", 12000, true},
	"cucina":      {"courses", "Corso di cucina del territorio", "Quattro serate per imparare i piatti della tradizione lariana: missoltini, risotto con il pesce persico, polenta taragna.", "course", 16000, true},
	"italiano":    {"courses", "Italiano per stranieri", "Corsi di lingua italiana per lavoratori e famiglie arrivati da poco, con certificazione finale.", "course", 9000, true},
	"primo":       {"courses", "Primo soccorso pediatrico", "Serata con un istruttore certificato: disostruzione delle vie aeree, febbre, traumi e cosa fare in attesa del 118.", "session", 3500, true},
	// sport
	"nuoto":       {"sport", "Corso di nuoto per bambini", "Lezioni settimanali in piscina coperta, dai 4 anni, con istruttori federali e gruppi per livello.", "course", 14000, true},
	"yoga":        {"sport", "Yoga e pilates", "Lezioni in palestra al mattino presto e in pausa pranzo, per tutti i livelli.", "month", 5500, false},
	"palestra":    {"sport", "Abbonamento palestra", "Sala attrezzi, corsi di gruppo e consulenza di un chinesiologo per il programma di allenamento.", "month", 4500, false},
	"arrampicata": {"sport", "Arrampicata in falesia", "Uscite guidate sulle pareti del Lecchese con guide alpine, attrezzatura inclusa.", "session", 7000, false},
	"camminate":   {"sport", "Gruppi di cammino", "Camminate guidate sul lungolago e sui sentieri del Monte Barro, due volte a settimana.", "month", 2000, false},
	// culture
	"teatro":     {"culture", "Abbonamento al teatro", "Sei spettacoli della stagione di prosa e musica, con posto riservato.", "year", 12000, false},
	"museo":      {"culture", "Visite guidate ai musei di Lecco", "Percorsi guidati a Villa Manzoni, Palazzo Belgiojoso e Torre Viscontea, anche per famiglie con bambini.", "session", 1500, false},
	"musica":     {"culture", "Lezioni di musica", "Pianoforte, chitarra, canto e batteria per bambini e adulti, individuali o in piccoli gruppi.", "hour", 3000, false},
	"fotografia": {"culture", "Laboratorio di fotografia", "Uscite fotografiche sul lago e serate di post-produzione, per chi ha una reflex o solo il telefono.", "course", 15000, true},
	// concierge
	"commissioni": {"concierge", "Maggiordomo aziendale", "Pensiamo noi alle commissioni mentre lavori: ritiro referti, pagamento bollettini, pratiche in Comune, consegne in azienda.", "item", 1200, false},
	"spesa":       {"concierge", "Spesa a domicilio", "Facciamo la spesa nei negozi del paese e la portiamo a casa, anche ai genitori anziani.", "item", 900, false},
	"auto":        {"concierge", "Revisione e lavaggio auto", "Ritiriamo l'auto in azienda, la portiamo a revisione o a lavare e la riportiamo a fine turno.", "item", 2500, false},
	"sartoria":    {"concierge", "Piccole riparazioni sartoriali", "Orli, cerniere e riparazioni con ritiro e consegna in azienda, in un laboratorio che forma giovani sarte.", "item", 1500, false},
	// laundry
	"stireria":   {"laundry", "Stireria con ritiro in azienda", "Lasci il sacco della biancheria al mattino e lo ritrovi stirato dopo due giorni, senza uscire dal lavoro.", "item", 1800, false},
	"lavanderia": {"laundry", "Lavanderia e stireria a domicilio", "Ritiro e consegna a casa di bucato, lenzuola e capi delicati, lavati con detersivi ecologici.", "item", 2200, false},
	"tende":      {"laundry", "Lavaggio tende e piumoni", "Lavaggio di tende, tappeti e piumoni con ritiro e rimontaggio delle tende.", "item", 3500, false},
	// transport
	"bus":         {"transport_pass", "Abbonamento annuale autobus", "Abbonamento annuale alle linee urbane ed extraurbane della provincia di Lecco.", "year", 36000, false},
	"treno":       {"transport_pass", "Abbonamento treno Lecco-Milano", "Abbonamento mensile ferroviario sulla linea Lecco-Milano, per chi lavora in città.", "month", 9900, false},
	"navigazione": {"transport_pass", "Abbonamento battelli del lago", "Abbonamento mensile alla navigazione del lago di Como per chi va al lavoro in battello.", "month", 7000, false},
}

// demoProvider is a fictional provider and the offers it makes. org is
// set for the providers the identity data set already created (with their
// staff accounts); the others get a new organisation.
type demoProvider struct {
	org                                     uuid.UUID
	name, form, place, address, description string
	pledgeBps                               int
	pending                                 bool
	offers                                  []string
}

var demoProviders = []demoProvider{
	{OrgProviderA, "Cooperativa sociale Il Germoglio", "social_cooperative", "097042", "Via Ghislanzoni 21", "Servizi educativi per la prima infanzia e le famiglie nei quartieri di Lecco.", 300, false, []string{"nido", "babysitter", "spazio", "doposcuola", "genitori"}},
	{uuid.Nil, "Cooperativa Sociale La Rete", "social_cooperative", "097042", "Corso Martiri della Liberazione 54", "Assistenza domiciliare e centri diurni per anziani, con operatori formati nel territorio.", 500, false, []string{"domiciliare", "diurno", "caregiver", "badante", "gruppo"}},
	{uuid.Nil, "Associazione Famiglie in Rete", "association", "097083", "Via Roma 8", "Associazione di genitori che organizza doposcuola e centri estivi a Valmadrera.", 0, false, []string{"doposcuola", "compiti", "estivo", "spazio", "primo"}},
	{uuid.Nil, "Studio Fisioterapico Adda", "business", "097048", "Via Bergamo 31", "Studio associato di fisioterapisti a Merate, riabilitazione ortopedica e neurologica.", 0, false, []string{"fisio", "posturale", "riabilitazione", "linfodrenaggio", "yoga"}},
	{uuid.Nil, "Cooperativa Sociale Lavoro e Dignità", "social_cooperative", "097013", "Via Mazzini 14", "Cooperativa di tipo B: lavanderia, stireria e commissioni affidate a persone che rientrano nel lavoro.", 800, false, []string{"stireria", "lavanderia", "commissioni", "spesa", "sartoria"}},
	{uuid.Nil, "Centro Psicologico Brianza", "business", "097016", "Via Garibaldi 3", "Psicologi e psicoterapeuti per adulti, coppie, bambini e adolescenti.", 0, false, []string{"psicologo", "genitori", "coppia", "gruppo", "dsa"}},
	{OrgProviderB, "ASD Ponte Sport", "association", "097046", "Lungolario Manzoni 2", "Associazione sportiva dilettantistica: nuoto, vela e attività in acqua a Mandello del Lario.", 0, false, []string{"nuoto", "vela", "palestra", "yoga", "estivo"}},
	{uuid.Nil, "Università Popolare del Lario", "association", "097042", "Via Cavour 45", "Corsi per adulti di lingue, informatica, cucina e cultura del territorio.", 0, false, []string{"inglese", "informatica", "cucina", "italiano", "fotografia"}},
	{uuid.Nil, "Cooperativa Sociale Alto Lago", "social_cooperative", "097023", "Via Nazionale 77", "Servizi alla persona nell'Alto Lario: anziani, famiglie, trasporto sociale.", 400, false, []string{"domiciliare", "babysitter", "spesa", "doposcuola", "caregiver"}},
	{uuid.Nil, "Palestra Monte Barro", "business", "097036", "Via Statale 12", "Palestra e centro fitness a Galbiate con chinesiologi e fisioterapisti.", 100, false, []string{"palestra", "yoga", "posturale", "camminate", "riabilitazione"}},
	{uuid.Nil, "Fondazione Villa dei Cedri", "association", "097049", "Via Merate 5", "Residenza per anziani e centro diurno integrato a Missaglia.", 0, false, []string{"diurno", "sollievo", "domiciliare", "fisio", "gruppo"}},
	{uuid.Nil, "Cooperativa Sociale Il Seme", "social_cooperative", "097006", "Piazza Garibaldi 9", "Nido, spazio gioco e consulenza educativa a Barzanò.", 300, false, []string{"nido", "spazio", "tata", "genitori", "primo"}},
	{uuid.Nil, "Guide Alpine Grigne", "business", "097040", "Via Vittorio Veneto 22", "Guide alpine della Valsassina: arrampicata, escursioni e campi estivi in montagna.", 0, false, []string{"arrampicata", "montagna", "camminate", "fotografia", "estivo"}},
	{uuid.Nil, "Teatro della Società", "association", "097042", "Piazza Garibaldi 10", "Associazione culturale che gestisce la stagione teatrale e musicale cittadina.", 0, false, []string{"teatro", "musica", "museo", "fotografia", "cucina"}},
	{uuid.Nil, "Cooperativa Sociale Pane e Lavoro", "social_cooperative", "097059", "Via Sant'Agnese 6", "Laboratorio sartoriale e servizi di commissioni che formano persone fragili al lavoro.", 1000, false, []string{"sartoria", "commissioni", "stireria", "auto", "tende"}},
	{uuid.Nil, "Scuola di Musica Lario", "association", "097045", "Via Agudio 4", "Scuola di musica per bambini e adulti a Malgrate.", 0, false, []string{"musica", "teatro", "estivo", "inglese", "doposcuola"}},
	{uuid.Nil, "Mobilità Lecchese srl", "business", "097042", "Piazza Lega Lombarda 1", "Rivendita autorizzata di abbonamenti per autobus, treni e battelli.", 0, false, []string{"bus", "treno", "navigazione", "auto", "commissioni"}},
	{uuid.Nil, "Associazione Tempo per Te", "association", "097061", "Via Trieste 19", "Volontari e professionisti per il sollievo delle famiglie che assistono.", 0, false, []string{"caregiver", "gruppo", "sollievo", "spesa", "camminate"}},
	{uuid.Nil, "Cooperativa Sociale Arcobaleno", "social_cooperative", "097071", "Via Indipendenza 28", "Doposcuola, DSA e centri estivi nel Meratese.", 300, false, []string{"doposcuola", "dsa", "compiti", "estivo", "ripetizioni"}},
	{uuid.Nil, "FisioLab Oggiono", "business", "097057", "Via Lazzaretto 11", "Centro di fisioterapia e riabilitazione sportiva.", 0, false, []string{"fisio", "riabilitazione", "linfodrenaggio", "posturale", "palestra"}},
	{uuid.Nil, "Cooperativa Sociale Casa Amica", "social_cooperative", "097010", "Via Sant'Antonio 3", "Assistenza e accoglienza per anziani e persone con disabilità.", 500, false, []string{"domiciliare", "sollievo", "badante", "diurno", "caregiver"}},
	{uuid.Nil, "Lavanderia Verde", "business", "097020", "Via Spluga 40", "Lavanderia ecologica con servizio di ritiro e consegna.", 0, false, []string{"lavanderia", "stireria", "tende", "sartoria", "spesa"}},
	{uuid.Nil, "Associazione Lingue Insieme", "association", "097068", "Via Roma 15", "Corsi di lingua italiana e straniera per lavoratori e famiglie.", 0, false, []string{"italiano", "inglese", "informatica", "ripetizioni", "compiti"}},
	{uuid.Nil, "Centro Sportivo Bione", "business", "097042", "Via Cantarelli 20", "Impianti sportivi e piscina comunale gestiti in concessione.", 0, false, []string{"nuoto", "palestra", "estivo", "yoga", "arrampicata"}},
	{uuid.Nil, "Cooperativa Sociale Orizzonte Lavoro", "social_cooperative", "097008", "Via Carlo Alberto 7", "Cooperativa di inserimento lavorativo: commissioni, spesa e pulizie nell'Alto Lago.", 700, false, []string{"commissioni", "spesa", "auto", "lavanderia", "tende"}},
	{uuid.Nil, "Studio di Psicologia Il Faro", "business", "097001", "Via Nazionale 50", "Sostegno psicologico e mediazione familiare.", 0, false, []string{"psicologo", "coppia", "genitori", "gruppo", "dsa"}},
	{uuid.Nil, "Associazione Lario Vela", "association", "097084", "Riva Grande 3", "Scuola di vela e sport d'acqua a Varenna.", 0, false, []string{"vela", "nuoto", "camminate", "fotografia", "estivo"}},
	// Awaiting approval: visible only in the platform admin's queue.
	{uuid.Nil, "Cooperativa Sociale Nuovi Orizzonti", "social_cooperative", "097004", "Via Provinciale 2", "Nuova cooperativa di servizi educativi in Valsassina.", 200, true, []string{"babysitter", "doposcuola", "estivo", "montagna", "tata"}},
	{uuid.Nil, "Bottega del Benessere", "business", "097069", "Via Roma 1", "Massaggi e ginnastica dolce a Premana.", 0, true, []string{"linfodrenaggio", "yoga", "posturale", "camminate", "palestra"}},
	{uuid.Nil, "Associazione Nonni in Rete", "association", "097042", "Via Belfiore 3", "Volontari per la compagnia e le commissioni degli anziani soli.", 0, true, []string{"spesa", "caregiver", "commissioni", "gruppo", "museo"}},
}
