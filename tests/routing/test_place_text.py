"""extract_location on U.S. cities: states, punctuation, abbreviations, misspellings, and
ordinary words that are also town names."""

import pytest

from bot.routing import extract_location
from bot.routing.geo import city_index


def desk_of(text: str) -> str | None:
    loc = extract_location(text)
    return loc.desk_id if loc else None


@pytest.mark.parametrize(
    ("text", "desk", "state"),
    [
        ("springfield mo", "kansas-city", "MO"),
        ("Springfield, Illinois", "chicago", "IL"),
        ("Springfield MA", "boston", "MA"),
        ("vivo en Springfield, Misuri", "kansas-city", "MO"),
        ("Mexico, MO", "kansas-city", "MO"),
        ("Guadalupe, CA", "oxnard", "CA"),
        ("Pasadena TX", "houston", "TX"),
        ("Paris, TX", "dallas", "TX"),
        ("hay redada en Mission tx", "mcallen", "TX"),
        ("Portland, ME", "boston", "ME"),
    ],
)
def test_extract_city_with_its_state(text: str, desk: str, state: str) -> None:
    loc = extract_location(text)
    assert loc is not None and (loc.desk_id, loc.state) == (desk, state), loc
    assert loc.confidence == "high"


def test_extract_ambiguous_city_without_state() -> None:
    # Clinton: a town in a dozen states, none clearly the one a person writing to a Mexican
    # consulate means — different desks: give up (the flow asks for the place).
    assert extract_location("la migra está en Clinton") is None
    # Springfield: IL 38 ZIPs, MA 21, MO 16 — weighed by where Mexican-born people live,
    # Illinois.
    springfield = extract_location("la migra está en Springfield")
    assert springfield is not None and springfield.state == "IL"
    delano = extract_location("AKI EN DELANO ESTA LA MIGRA")
    assert delano is not None and (delano.state, delano.desk_id) == ("CA", "fresno")
    # A consulate's own city wins; a much larger namesake wins with medium confidence.
    douglas = extract_location("estoy en Douglas")
    assert douglas is not None and (douglas.desk_id, douglas.state) == ("douglas", "AZ")
    columbus = extract_location("Columbus")
    assert columbus is not None and columbus.state == "OH" and columbus.confidence == "medium"
    # A state named elsewhere in the message settles it.
    loc = extract_location("vivimos en Missouri, cerca de Springfield")
    assert loc is not None and loc.state == "MO"


@pytest.mark.parametrize(
    ("text", "desk"),
    [
        ("Los Angeles.", "los-angeles"),
        ("L.A.", "los-angeles"),
        ("estoy en L.A. con mi familia", "los-angeles"),
        ("st. paul,mn", "saint-paul"),
        ("Saint Paul", "saint-paul"),
        ("San Pablo Minnesota", "saint-paul"),
        ("Ft. Worth", "dallas"),
        ("Fort Worth", "dallas"),
        ("Mt. Vernon, WA", "seattle"),
        ("Ste. Genevieve, MO", "kansas-city"),
        ("San José", "san-jose"),
        ("San Jose", "san-jose"),
        ("McAllen", "mcallen"),
        ("Mc Allen", "mcallen"),
        ("HOUSTON TX", "houston"),
        ("houston", "houston"),
        ("Estoy en Nueva York!!", "new-york"),
        ("Dallas/Fort Worth", "dallas"),
        ("they were at the flea market in KCK this morning", "kansas-city"),
    ],
)
def test_extract_punctuation_and_abbreviations(text: str, desk: str) -> None:
    assert desk_of(text) == desk


@pytest.mark.parametrize(
    ("text", "desk"),
    [
        ("hay una redada en Hiouston", "houston"),
        ("estoy en Los Angelos", "los-angeles"),
        ("vivo en chicaho", "chicago"),
        ("in Chiacgo", "chicago"),
        ("la migra anda en Sacremento", "sacramento"),
        ("en Phoneix", "phoenix"),
        ("I am in Albuquerqe", "albuquerque"),
        ("estamos en San Antonoi", "san-antonio"),
        ("Milwuakee", "milwaukee"),
    ],
)
def test_extract_misspelt_big_cities(text: str, desk: str) -> None:
    loc = extract_location(text)
    assert loc is not None and loc.desk_id == desk, loc
    assert loc.confidence == "medium"


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("la migra está en menfis en la planta", "Memphis, TN"),
        ("se lo llevaron en murfrisboro", "Murfreesboro, TN"),
        ("pararon la troca por murfis boro", "Murfreesboro, TN"),  # a word run apart
        ("lo agarraron en bouling grin kentoqui", "Bowling Green, KY"),
        ("oí que hay retenes cerca de Lawrencevil", "Lawrenceville, GA"),
        ("mi primo vive en juston", "Houston, TX"),  # an English h heard as a Spanish j
        ("trabajo en nachvil", "Nashville, TN"),
    ],
)
def test_an_english_name_written_by_ear_is_heard(text: str, place: str) -> None:
    """People write English names as they hear them: the sound, not the letters, names
    the town (a town of several states still needs the rest of the message to say which)."""
    loc = extract_location(text)
    assert loc is not None and loc.label == place, loc


@pytest.mark.parametrize(
    "text",
    [
        "estamos en la casa de mi tía",
        "vivimos en paz gracias a Dios",
        "en serio no sé qué hacer",
        "me agarraron en frente del trabajo",
        "están en la escuela de los niños",
        "en caso de que venga la migra",
        "trabajo en construcción",
        "lo vi en el parque",
        "estuve en la clínica",
        "en las visas de trabajo",
    ],
)
def test_ordinary_words_are_not_heard_as_towns(text: str) -> None:
    assert extract_location(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "estoy en una trampa",  # trampa / Tampa
        "hace fresco en la mañana",  # fresco / Fresno
        "salen a las cinco",  # salen / Salem
        "en Dalas",  # alias, not a correction, but shows short words still work
    ],
)
def test_misspellings_are_corrected_only_in_place_context(text: str) -> None:
    loc = extract_location(text)
    assert loc is None or text == "en Dalas"


@pytest.mark.parametrize(
    ("text", "desk"),
    [
        ("Waukegan - agents at the courthouse grabbing ppl, happening NOW", "chicago"),
        ("Perris: la migra en el swap meet ahorita", "san-bernardino"),
        ("blue island — a señora saw agents at the metra station", "chicago"),
        ("Winston-Salem la migra esta en la fabrica", "raleigh"),  # a hyphen joins a name
        ("Mission, we need help", None),  # an ordinary word: only where a place is said
        ("Orlando, ayúdame por favor", None),  # a person's name
        ("Hola, buenas tardes", None),
    ],
)
def test_a_town_that_opens_the_message_set_apart_is_its_place(text: str, desk: str | None) -> None:
    """People often lead with the place, then a dash, colon or comma."""
    assert desk_of(text) == desk


@pytest.mark.parametrize(
    ("text", "desk"),
    [
        ("están en Immokalee", "miami"),
        ("la migra anda en Katy", "houston"),
        ("detenido en Conroe", "houston"),
        ("vivo en Siler City", "raleigh"),
        ("trabajo en Dalton", "atlanta"),
        ("en Mission", "mcallen"),
        ("I live in Independence", "kansas-city"),
        ("at Orange", "santa-ana"),
        ("cerca de Hope, AR", "little-rock"),
        ("Immokalee", "miami"),
        ("estoy en el paso", "el-paso"),  # a consulate's city, even lowercase
        ("vivo en fresno", "fresno"),
    ],
)
def test_extract_small_towns_and_words_in_place_context(text: str, desk: str) -> None:
    assert desk_of(text) == desk


@pytest.mark.parametrize(
    "text",
    [
        # Spanish
        "la migra está en la mesa",
        "tengo esperanza de que salga",
        "fue en misión de trabajo",
        "es el día de la independencia",
        "compré una naranja en la tienda",
        "el comercio está cerrado",
        "trabaja en la industria de la construcción",
        "el paso siguiente es llamar al abogado",
        "hace fresco en la mañana",
        "en mi pueblo no hay trabajo",
        "en el centro había mucha policía",
        "mi esposa se llama Mercedes y está detenida",
        "mi hija Victoria tiene fiebre",
        "mi cuñado Orlando López no contesta",
        "se llama Guadalupe Hernández",
        "hablé con el licenciado Salinas",
        "soy de México",
        "mi hijo nació en México",
        "me van a deportar a México",
        "el consulado de México no contesta",
        "ok",
        "ok gracias",
        # English
        "I hope you can help us",
        "the mission is to keep families together",
        "Independence Day is in July",
        "we painted it orange",
        "the eagle has landed",
        "I work in industry",
        "he works in commerce",
        "there is hope",
        "my son Austin is 5",
        "my daughter Charlotte is sick",
        "my wife Victoria was detained",
        "Paris is beautiful in spring",
        "in the morning they came",
        "I was born in a small town",
        "Atlantis",
    ],
)
def test_ordinary_sentences_name_no_place(text: str) -> None:
    assert extract_location(text) is None


def test_every_city_in_the_zip_data_is_found_with_its_state() -> None:
    """Each city name of the ZIP data, written "City, ST", resolves to that state."""
    missed = []
    for places in city_index().values():
        for place in places:
            loc = extract_location(f"{place.name}, {place.state}")
            if loc is not None and loc.state != place.state and not loc.abroad:
                missed.append((place.name, place.state, loc.label))
            elif loc is None and place.state not in ("GU", "VI", "AS", "MP", "PW", "FM", "MH"):
                missed.append((place.name, place.state, None))
    assert len(missed) < 0.01 * sum(len(v) for v in city_index().values()), missed[:20]


@pytest.mark.parametrize(
    ("text", "phone", "state"),
    [
        ("redada en Gainesville", "+17705551234", "GA"),  # a Georgia number
        ("redada en Gainesville", "+13525551234", "FL"),  # a Florida number
        ("la migra en Sanford", "+19195550000", "NC"),
        ("a mi hermano lo agarraron en Duluth", "+16785550000", "GA"),
        ("a mi hermano lo agarraron en Duluth", "+12185550000", "MN"),
        ("Canton, OH", "+14045550000", "OH"),  # the state written wins over the phone
    ],
)
def test_the_writers_area_code_chooses_among_towns_of_one_name(
    text: str, phone: str, state: str
) -> None:
    """A town in several states, no state written: the one in the writer's own state."""
    loc = extract_location(text, phone=phone)
    assert loc is not None and loc.state == state, loc


def test_without_a_phone_an_ambiguous_town_is_still_no_desk() -> None:
    assert extract_location("la migra en Sanford") is None
    assert extract_location("la migra en Sanford", phone="+525512345678") is None  # Mexico


@pytest.mark.parametrize(
    "text",
    [
        "Folio 88213 - solicitud de visita consular, ¿ya lo visitaron?",
        "mi numero de caso es 77036",
        "Checking on report 90210, thank you",
        "my appointment 60629 was cancelled",
    ],
)
def test_a_reference_number_is_not_a_zip_code(text: str) -> None:
    assert extract_location(text) is None


@pytest.mark.parametrize(
    "text", ["no se, 77036", "no estoy segura 77036", "mi caso: vivo en 77036"]
)
def test_a_zip_code_after_ordinary_words_is_still_a_zip_code(text: str) -> None:
    loc = extract_location(text)
    assert loc is not None and loc.zip == "77036" and loc.desk_id == "houston", loc


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("q requisitos hay pa las visas de trabajo temporales", None),
        ("to enroll in community college by August", None),
        ("hay redada en los angelas", "Los Angeles, CA"),
        ("la migra esta en san atonio", "San Antonio, TX"),
    ],
)
def test_a_phrase_is_corrected_into_a_city_only_word_by_word(text: str, label: str | None) -> None:
    """ "las visas" is two letters away from "las vegas" in a five-letter word: not a typo."""
    loc = extract_location(text)
    assert (loc.label if loc else None) == label


def test_a_detention_centre_by_its_short_name() -> None:
    loc = extract_location("mi cuñado esta en Stewart y lo deportan mañana")
    assert loc is not None and (loc.desk_id, loc.state) == ("atlanta", "GA")
    assert extract_location("mi vecino Stewart me amenaza") is None


@pytest.mark.parametrize(
    ("text", "desk"),
    [
        # A longer name inside words read as a town ("el centro" is El Centro, CA, in capitals)
        ("esta en el centro de detencion de Elizabeth, q podemos hacer", "new-brunswick"),
        ("mi papá está en el centro de detención de Otay Mesa hace 6 semanas", "san-diego"),
        # A place of work or daily life "de" a town found nowhere else in the U.S.
        ("la migra esta aqui en la planta de marshalltown ahorita", "omaha"),
        ("estoy escondida en la bodega de eastvale, llego la migra", "san-bernardino"),
        ("en la planta de pavo en Mount Olive, NC hay helicóptero", "raleigh"),
    ],
)
def test_a_town_after_words_that_are_not_it(text: str, desk: str) -> None:
    assert desk_of(text) == desk


def test_a_place_of_work_before_a_town_of_several_states_chooses_none() -> None:
    # Dunn: NC and TX; "la pulga de dunn" says nothing about which.
    assert desk_of("hay migra en la pulga de dunn ahorita") is None
    assert desk_of("trabajo en el taller de mecanica") is None


@pytest.mark.parametrize(
    ("text", "desk"),
    [
        ("disculpe, mi sobrino en Florence le pusieron fianza de 8 mil dolares", "phoenix"),
        ("someone from the detention center in Aurora called, my brother fell", "denver"),
        ("I wrote about my father in law at the detention center in Batavia", "new-york"),
        ("mi primo está detenido en Leavenworth y no le dan su insulina", "kansas-city"),
        ("my uncle is still held in Florence, can you visit", "phoenix"),
    ],
)
def test_a_person_held_in_a_town_of_several_states_is_where_the_detention_centre_is(
    text: str, desk: str
) -> None:
    assert desk_of(text) == desk


def test_a_town_of_several_states_without_a_person_held_is_still_no_desk() -> None:
    assert desk_of("vivo en Florence y quiero sacar mi pasaporte") is None
    assert desk_of("detained in aurora 2 days ago, family cant reach her") is None


@pytest.mark.parametrize(
    ("text", "desk"),
    [
        ("a sweep at the apartment complex off Montgomery Blvd, Albuquerque. NOW", "albuquerque"),
        ("he's at La Palma in Eloy, deportation tomorrow", "phoenix"),
        ("my neighbor is being beaten, we're in Spring Valley in Las Vegas", "las-vegas"),
        ("locked in the manager's office at our complex in Westchase, Houston", "houston"),
        ("checkpoint at Sunset & Decatur in Las Vegas this morning", "las-vegas"),
        # a street named after the only town named lies in that town
        ("the manager's brother is outside screaming. Scottsdale Rd & Shea", "phoenix"),
    ],
)
def test_a_street_or_a_part_named_before_its_city_is_the_city(text: str, desk: str) -> None:
    assert desk_of(text) == desk


@pytest.mark.parametrize(
    ("text", "desk"),
    [
        ("bamos a la marcha en LA el sabado, pueden agarrar gente ahi?", "los-angeles"),
        ("tiktok says ice is raiding every home depot in LA this week", "los-angeles"),
        ("ESTÁN EN LA ESCUELA. hay migra afuera de la primaria en Brownsville", "brownsville"),
        ("agarraron a mi compadre en el Strip saliendo del turno de noche", "las-vegas"),
        ("my friend's mom was taken by ICE at a hotel on the Strip today", "las-vegas"),
        ("ice grabbed 4 guys at the day labor corner on lake st in mpls", "saint-paul"),
    ],
)
def test_short_names_people_use(text: str, desk: str) -> None:
    assert desk_of(text) == desk


def test_a_strip_and_a_la_are_no_place() -> None:
    assert desk_of("they opened a new strip mall by my house") is None
    assert desk_of("la migra estuvo en la tienda") is None


@pytest.mark.parametrize(
    ("text", "desk"),
    [
        ("detuvieron a mi esposa en el retén de la 53 en Jasper. Yo estoy en Ellijay", "atlanta"),
        ("Lo agarraron en Hammond pero la familia vive en Pilsen, fue hoy", "chicago"),
    ],
)
def test_a_town_of_several_states_is_in_the_state_of_the_sure_place_beside_it(
    text: str, desk: str
) -> None:
    assert desk_of(text) == desk


def test_a_place_of_work_de_a_town_of_several_states_is_the_writers_states() -> None:
    text = "aorita estan la migra en la lecheria de burley en la entrada"
    assert desk_of(text) is None  # Burley: Idaho and Washington
    loc = extract_location(text, phone="+12085550100")  # an Idaho number
    assert loc is not None and (loc.state, loc.desk_id) == ("ID", "boise")
