"""What simulated people write, per language: first messages, and answers per style.

Answers are looked up by the question being asked: first `(flow, step id)`, then
`(flow, step kind)`, then `("*", kind)`, so a flow whose steps are renamed or reordered
still gets sensible answers. Typos and missing accents are written in on purpose.
"""

from __future__ import annotations

from typing import Final

Table = dict[tuple[str, str], tuple[str, ...]]

# ---------------------------------------------------------------------------------------
# First messages: (flow, critical?, text). Critical ones open a case at once.
FIRST: Final[dict[str, tuple[tuple[str, bool, str], ...]]] = {
    "es": (
        ("raid", True, "hay una redada de ICE ahorita en la fabrica en Houston"),
        ("raid", True, "la migra esta afuera de mi casa ahorita"),
        ("raid", False, "dicen que hay migra en el walmart de la 290, es cierto?"),
        ("detention", True, "la migra se llevó a mi hermano ahorita en el trabajo en Dallas"),
        ("detention", True, "detuvieron a mi esposo esta mañana"),
        ("detention", False, "a mi primo lo detuvo inmigracion la semana pasada"),
        ("harassment", False, "mi patrón me amenaza con llamar a inmigración"),
        ("harassment", False, "mi casero me amenaza porque no tengo papeles"),
        ("documents", False, "necesito pasaporte para mi hijo"),
        ("documents", False, "como saco la matricula consular"),
        ("programs", False, "que paso con el programa de visas de trabajo"),
        ("programs", False, "quiero saber del programa de regularizacion"),
    ),
    "en": (
        ("raid", True, "ICE is at my job right now in Houston"),
        ("raid", True, "immigration agents are outside my apartment in Dallas"),
        ("raid", False, "people say there was a raid at the flea market last week"),
        ("detention", True, "ICE arrested my brother this morning in Dallas"),
        ("detention", False, "my husband was detained by ICE yesterday"),
        ("harassment", False, "my boss threatens to call immigration on me"),
        ("harassment", False, "my landlord harasses me because I have no papers"),
        ("documents", False, "I need a passport for my son"),
        ("documents", False, "how do I get a consular ID"),
        ("programs", False, "what happened with the h2b work visa program"),
        ("programs", False, "i want to know about the regularization program"),
    ),
}
GREETING: Final[dict[str, tuple[str, ...]]] = {
    "es": ("hola", "ola buenas", "buenas tardes"),
    "en": ("hello", "hi", "hey"),
}
MENU_NUMBER: Final[dict[str, int]] = {
    "raid": 1,
    "detention": 2,
    "harassment": 3,
    "documents": 4,
    "programs": 5,
}
MENU_WORDS: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "es": {
        "raid": ("redada", "migra", "redada o agentes de ice"),
        "detention": ("detuvieron a alguien", "detenido"),
        "harassment": ("acoso", "amenasas", "acoso o amenazas"),
        "documents": ("documentos", "pasaporte"),
        "programs": ("programas", "programas migratorios"),
    },
    "en": {
        "raid": ("raid", "ice agents"),
        "detention": ("someone was detained", "detained"),
        "harassment": ("harassment", "threats"),
        "documents": ("documents", "passport"),
        "programs": ("programs", "news"),
    },
}

# ---------------------------------------------------------------------------------------
# The privacy notice, accepted (each style its own way) or declined.
ACCEPT: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "digits": {"es": ("1",), "en": ("1",)},
    "words": {"es": ("si", "sí acepto", "si claro"), "en": ("yes", "yes I agree", "I agree")},
    "story": {"es": ("si acepto, por favor ayudenme",), "en": ("yes I agree, please help us",)},
    "dont_know": {"es": ("ok", "si"), "en": ("ok", "yes")},
    "facts": {"es": ("si, ok",), "en": ("yes ok",)},
    "off_topic": {"es": ("ok dale", "okey"), "en": ("ok sure", "okay")},
    "emoji": {"es": ("si 👍", "ok 🙏"), "en": ("yes 👍", "ok 🙏")},
}
DECLINE: Final[dict[str, tuple[str, ...]]] = {
    "es": ("no", "no gracias", "2"),
    "en": ("no", "no thanks", "2"),
}

# ---------------------------------------------------------------------------------------
# Style 1: digits only.
DIGITS: Final[dict[str, tuple[str, ...]]] = {
    "location": ("77036", "75211", "77081"),
    "dob": ("12 05 1985", "03 03 1990"),
    "phone": ("7135550199", "2145550142"),
    "a_number": ("201555123", "088123456"),
    "number": ("2", "3", "1"),
    "media": ("2", "0"),
    "text": ("1", "2"),
}

# Style 2: the words of an option, or a short answer in words.
WORDS: Final[dict[str, Table]] = {
    "es": {
        ("*", "yes_no"): ("si", "sí", "no", "nop", "sii"),
        ("*", "time"): ("ayer", "ahorita", "hoy en la mañana", "hace 2 horas", "anoche"),
        ("*", "location"): ("Houston", "en Dallas", "Dallas TX", "houston tx"),
        ("*", "dob"): ("12 de mayo de 1985", "3 de marzo 1990"),
        ("*", "phone"): ("713 555 0199", "(214) 555-0142"),
        ("*", "a_number"): ("A 201 555 123", "A201555123"),
        ("*", "number"): ("dos", "tres", "nadie", "uno"),
        ("*", "media"): ("no", "no tengo", "nada"),
        ("*", "text"): ("no se", "nada"),
        ("detention", "name"): ("Jose Luis Hernandez", "Maria Garcia Lopez", "Juan Peres"),
        ("detention", "facility"): ("en Conroe", "Prairieland", "creo que Montgomery"),
        ("raid", "details"): ("revisando papeles", "no"),
        ("harassment", "details"): ("me grita", "amenazas"),
        ("documents", "help_what"): ("pasaporte vencido", "cita urgente"),
        ("programs", "help_what"): ("visa de trabajo", "aplicar H2B"),
    },
    "en": {
        ("*", "yes_no"): ("yes", "yeah", "no", "nope", "yes"),
        ("*", "time"): ("yesterday", "right now", "this morning", "2 hours ago", "last night"),
        ("*", "location"): ("Houston", "in Dallas", "Dallas TX", "houston tx"),
        ("*", "dob"): ("May 12 1985", "March 3 1990"),
        ("*", "phone"): ("713 555 0199", "(214) 555-0142"),
        ("*", "a_number"): ("A 201 555 123", "A201555123"),
        ("*", "number"): ("two", "three", "none", "one"),
        ("*", "media"): ("no", "none", "nothing"),
        ("*", "text"): ("dont know", "nothing"),
        ("detention", "name"): ("Jose Luis Hernandez", "Maria Garcia Lopez", "Juan Peres"),
        ("detention", "facility"): ("Conroe", "Prairieland", "maybe Montgomery"),
        ("raid", "details"): ("checking papers", "no"),
        ("harassment", "details"): ("yelling", "threats"),
        ("documents", "help_what"): ("expired passport", "urgent appointment"),
        ("programs", "help_what"): ("work visa", "apply H2B"),
    },
}

# Style 3: a sentence that tells a bit of the story, for every question.
STORY: Final[dict[str, Table]] = {
    "es": {
        ("raid", "safe"): (
            "estoy escondida en el baño del trabajo, tengo mucho miedo",
            "si estoy bien pero afuera hay muchas patrullas",
        ),
        ("raid", "children"): (
            "si, hay niños solos porque se llevaron a su mama",
            "los niños estan en la escuela todavia, nadie los recoje",
        ),
        ("raid", "yes_no"): ("si, se llevaron a dos compañeros en una van blanca",),
        ("raid", "choice"): (
            "estaban en la puerta del trabajo revisando papeles a todos",
            "traian chalecos que decian ICE y POLICE pero no se bien",
        ),
        ("raid", "location"): (
            "es en la fabrica que esta por Bellaire en Houston 77036",
            "en la tienda grande de la calle Harry Hines en Dallas",
        ),
        ("raid", "time"): (
            "empezo como a las siete de la mañana y todavia siguen aqui",
            "fue hoy temprano cuando ibamos entrando a trabajar",
        ),
        ("raid", "number"): (
            "creo que se llevaron como a cinco personas, tal vez mas",
            "se llevaron a dos compañeros en una van blanca",
        ),
        ("raid", "media"): (
            "no tengo fotos, se llevaron a dos compañeros y me dio miedo sacar el telefono",
            "estan revisando papeles en la puerta y no dejan salir a nadie",
        ),
        ("raid", "text"): ("estan revisando papeles en la puerta y no dejan salir a nadie",),
        ("detention", "name"): ("se llama Jose Luis Hernandez Ramirez pero le dicen Pepe",),
        ("detention", "facility"): (
            "creo que lo llevaron a Prairieland pero nadie nos dice nada",
            "no sabemos, solo hablo una vez y colgo rapido",
        ),
        ("detention", "who"): ("es mi hermano, lo agarraron saliendo del trabajo",),
        ("detention", "country"): ("el es de Mexico, de un pueblito de Gerrero",),
        ("detention", "dob"): ("nacio el 3 de marzo de 1990 en Michoacan",),
        ("detention", "a_number"): ("no tengo ese numero, todos sus papeles estan en la casa",),
        ("detention", "location"): ("lo agarraron en el estacionamiento del Walmart en Dallas",),
        ("detention", "time"): ("fue ayer en la tarde como a las cinco",),
        ("detention", "phone"): ("mi numero es 214 555 0142, llamenme en la noche porque trabajo",),
        ("harassment", "yes_no"): (
            "ahorita no, pero tengo miedo de que regrese",
            "si, esta afuera de mi casa gritando",
        ),
        ("harassment", "choice"): (
            "es mi patron, dice que va a llamar a la migra si me quejo del pago",
        ),
        ("harassment", "time"): ("ya tiene meses, la ultima vez fue ayer en la tarde",),
        ("harassment", "location"): ("en la obra donde trabajo en Houston, por la 610",),
        ("harassment", "text"): ("me grita enfrente de todos y no me paga las horas extra",),
        ("harassment", "media"): (
            "tengo unos mensajes de texto donde me amenaza pero no se como mandarlos",
        ),
        ("documents", "topic"): ("quiero sacar el pasaporte para mi niña que nacio aqui",),
        ("documents", "passport_for"): ("es para mi hija de cinco años, su papa esta en Mexico",),
        ("documents", "acta_for"): ("necesito el acta de nacimiento de mi mama para un tramite",),
        ("documents", "more"): ("no, eso es todo, muchas gracias por la informacion",),
        ("documents", "text"): ("mi pasaporte se vencio y tengo que viajar la otra semana",),
        ("programs", "topic"): (
            "escuche que hay un programa de visas de trabajo H2B, como aplico",
        ),
        ("programs", "more"): ("no, eso es todo, muchas gracias por la informacion",),
        ("programs", "text"): ("mi primo aplico a la visa de trabajo y no le han dicho nada",),
        ("*", "choice"): ("pues la verdad no estoy seguro cual es",),
        ("*", "yes_no"): ("creo que si pero no estoy segura",),
        ("*", "text"): ("la verdad no se mucho, me contaron por telefono",),
        ("*", "time"): ("fue ayer en la tarde como a las cinco",),
        ("*", "location"): ("en Houston por la Bellaire, cerca de la iglesia",),
        ("*", "number"): ("como unas tres personas mas o menos",),
        ("*", "media"): ("no tengo fotos, tenia mucho miedo de sacar el telefono",),
        ("*", "dob"): ("nacio en 1990 pero no se el dia exacto",),
        ("*", "phone"): ("a este mismo numero, es el unico que tengo",),
        ("*", "a_number"): ("no lo tengo, esta en unos papeles en la casa",),
    },
    "en": {
        ("raid", "safe"): (
            "I am hiding in the bathroom at work, I am really scared",
            "yes I am ok but there are a lot of trucks outside",
        ),
        ("raid", "children"): (
            "yes there are kids alone because they took their mom",
            "the kids are still at school and nobody can pick them up",
        ),
        ("raid", "yes_no"): ("yes they took two coworkers in a white van",),
        ("raid", "choice"): (
            "they are checking papers at the door of my job",
            "their vests said ICE and POLICE but I am not sure",
        ),
        ("raid", "location"): (
            "it is at the factory on Bellaire in Houston 77036",
            "at the big store on Harry Hines in Dallas",
        ),
        ("raid", "time"): (
            "it started around seven this morning and they are still here",
            "early today when we were going in to work",
        ),
        ("raid", "number"): (
            "I think they took about five people, maybe more",
            "they took two coworkers in a white van",
        ),
        ("raid", "media"): (
            "no photos, they took two coworkers and I was scared to take out my phone",
            "they are checking papers at the door and nobody can leave",
        ),
        ("raid", "text"): ("they are checking papers at the door and nobody can leave",),
        ("detention", "name"): ("his name is Jose Luis Hernandez Ramirez but we call him Pepe",),
        ("detention", "facility"): (
            "I think they took him to Prairieland but nobody tells us anything",
            "we dont know, he called once and hung up fast",
        ),
        ("detention", "who"): ("it is my brother, they got him leaving work",),
        ("detention", "country"): ("he is from Mexico, a small town in Guerrero",),
        ("detention", "dob"): ("he was born March 3 1990 in Michoacan",),
        ("detention", "a_number"): ("I dont have that number, all his papers are at home",),
        ("detention", "location"): ("they got him in the Walmart parking lot in Dallas",),
        ("detention", "time"): ("it was yesterday afternoon around five",),
        ("detention", "phone"): ("my number is 214 555 0142, call me at night because I work",),
        ("harassment", "yes_no"): (
            "not right now but I am afraid he will come back",
            "yes he is outside my house yelling",
        ),
        ("harassment", "choice"): (
            "it is my boss, he says he will call ICE if I complain about my pay",
        ),
        ("harassment", "time"): ("it has been months, last time was yesterday afternoon",),
        ("harassment", "location"): ("at the construction site where I work in Houston",),
        ("harassment", "text"): ("he yells at me in front of everyone and doesnt pay overtime",),
        ("harassment", "media"): ("I have some text messages where he threatens me",),
        ("documents", "topic"): ("I want to get a passport for my little girl born here",),
        ("documents", "passport_for"): (
            "it is for my five year old daughter, her dad is in Mexico",
        ),
        ("documents", "acta_for"): ("I need my mothers birth certificate for some paperwork",),
        ("documents", "more"): ("no that is all, thank you so much for the info",),
        ("documents", "text"): ("my passport expired and I have to travel next week",),
        ("programs", "topic"): ("I heard there is an H2B work visa program, how do I apply",),
        ("programs", "more"): ("no that is all, thank you so much for the info",),
        ("programs", "text"): ("my cousin applied for the work visa and heard nothing back",),
        ("*", "choice"): ("honestly I am not sure which one it is",),
        ("*", "yes_no"): ("I think so but I am not sure",),
        ("*", "text"): ("I dont really know much, they told me on the phone",),
        ("*", "time"): ("it was yesterday afternoon around five",),
        ("*", "location"): ("in Houston near Bellaire, close to the church",),
        ("*", "number"): ("about three people more or less",),
        ("*", "media"): ("no photos, I was too scared to take out my phone",),
        ("*", "dob"): ("born in 1990 but I dont know the exact day",),
        ("*", "phone"): ("this same number, it is the only one I have",),
        ("*", "a_number"): ("I dont have it, it is in some papers at home",),
    },
}

# Style 4: "I don't know" to everything.
DONT_KNOW: Final[dict[str, tuple[str, ...]]] = {
    "es": ("no sé", "nose", "no se", "ni idea", "no sé 🤷", "no lo se"),
    "en": ("I don't know", "idk", "dont know", "not sure", "no idea"),
}

# Style 5: several facts in one message: the answer to the question, then other facts.
FACT_BITS: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "es": {
        "raid": (
            "fue ahorita en el 77036",
            "se llevaron a 3",
            "hay niños solos",
            "eran de ICE",
            "en el trabajo en Houston",
            "no tengo fotos",
            "estan revisando papeles en la puerta",
        ),
        "detention": (
            "se llama Jose Hernandez",
            "nacio el 3/03/1990",
            "es de Mexico",
            "lo agarraron ayer en Dallas 75211",
            "creo que esta en Prairieland",
            "mi numero es 214 555 0142",
        ),
        "harassment": (
            "es mi patron en el trabajo",
            "fue ayer en Houston 77036",
            "dice que va a llamar a la migra",
            "no me paga las horas extra",
            "tengo mensajes de texto",
        ),
        "documents": (
            "es para mi hijo de 5 años",
            "nacio en Texas",
            "su papa esta en Mexico",
            "ya tengo cita el lunes",
        ),
        "programs": (
            "mi primo aplico en 2022",
            "no le contestan",
            "vivimos en Houston",
        ),
    },
    "en": {
        "raid": (
            "it is happening right now at 77036",
            "they took 3",
            "there are kids alone",
            "it was ICE",
            "at my job in Houston",
            "I have no photos",
            "they are checking papers at the door",
        ),
        "detention": (
            "his name is Jose Hernandez",
            "born 03/03/1990",
            "he is from Mexico",
            "they got him yesterday in Dallas 75211",
            "I think he is in Prairieland",
            "my number is 214 555 0142",
        ),
        "harassment": (
            "it is my boss at work",
            "it was yesterday in Houston 77036",
            "he says he will call ICE",
            "he doesnt pay overtime",
            "I have text messages",
        ),
        "documents": (
            "it is for my 5 year old son",
            "he was born in Texas",
            "his dad is in Mexico",
            "I have an appointment monday",
        ),
        "programs": (
            "my cousin applied in 2022",
            "nobody answers him",
            "we live in Houston",
        ),
    },
}

# Style 6: off-topic replies and emoji (the question is answered after the bot asks again).
OFF_TOPIC: Final[dict[str, tuple[str, ...]]] = {
    "es": (
        "😭🙏",
        "???",
        "jajaja",
        "espere un momento porfa",
        "se me esta acabando la bateria",
        "hola?",
        "🙏🙏🙏",
        "k",
    ),
    "en": (
        "😭🙏",
        "???",
        "my phone is dying",
        "lol",
        "wait a sec please",
        "hello??",
        "🙏🙏🙏",
        "k",
    ),
}

# Style 7: no words at all the first time a question comes ("😭🙏", "???"), then an answer
# in words: every question is asked twice, so this is the longest honest conversation.
EMOJI: Final[dict[str, tuple[str, ...]]] = {
    "es": ("😭🙏", "???", "🙏🙏🙏", "😢", "...", "👍?"),
    "en": ("😭🙏", "???", "🙏🙏🙏", "😢", "...", "👍?"),
}
