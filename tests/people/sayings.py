"""What simulated people write, per language: first messages, and answers per style.

Answers are looked up by the question being asked: first `(flow, step id)`, then
`(flow, step kind)`, then `("*", kind)`, so a flow whose steps are renamed or reordered
still gets sensible answers. Typos and missing accents are written in on purpose.

A story told to the consultation times (`appointment` steps) names one of the times offered:
`{n}` is its number, `{weekday}` and `{time}` are said the way a person says them ("el
jueves", "a las 10").
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
        ("screening", False, "me pueden deportar por no tener papeles?"),
        ("screening", False, "me pueden depotar? ya tengo 12 años aqui"),
        ("screening", False, "nesesito avogado"),
        ("screening", False, "necesito un abogado para mi caso de migracion"),
        ("screening", False, "me llego una carta de la corte de inmigracion, me van a deportar?"),
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
        ("screening", False, "can I get a lawyer?"),
        ("screening", False, "can they deport me? I have been here 15 years"),
        ("screening", False, "can i get deportd if i have a dui"),
        ("screening", False, "I need an attorney for my immigration case"),
        ("screening", False, "am I at risk of deportation"),
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
    "screening": 6,
}
MENU_WORDS: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "es": {
        "raid": ("redada", "migra", "redada o agentes de ice"),
        "detention": ("detuvieron a alguien", "detenido"),
        "harassment": ("acoso", "amenasas", "acoso o amenazas"),
        "documents": ("documentos", "pasaporte"),
        "programs": ("programas", "programas migratorios"),
        "screening": ("abogado", "riesgo", "estoy en riesgo", "avogado", "hablar con un abogado"),
    },
    "en": {
        "raid": ("raid", "ice agents"),
        "detention": ("someone was detained", "detained"),
        "harassment": ("harassment", "threats"),
        "documents": ("documents", "passport"),
        "programs": ("programs", "news"),
        "screening": ("lawyer", "am i at risk", "talk to a lawyer", "attorney"),
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
    "date": ("15/01", "12/12", "3/12"),
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
        ("*", "date"): ("el 15 de enero", "la proxima semana", "en dos semanas", "no se cuando"),
        ("screening", "want"): ("si", "sí por favor", "sii"),  # they came for a lawyer
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
        ("*", "date"): ("January 15", "next tuesday", "in two weeks", "not sure when"),
        ("screening", "want"): ("yes", "yes please", "yeah"),  # they came for a lawyer
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
        ("screening", "years"): (
            "ya llevo como 15 años aqui, llegue cuando tenia veinte",
            "apenas tengo un año aqui, vine con mis hijos",
        ),
        ("screening", "removal"): (
            "no, nunca me han deportado, siempre he estado aqui",
            "si, me deportaron en 2015 y me regrese",
        ),
        ("screening", "arrest"): (
            "una vez me pararon manejando sin licencia hace años",
            "prefiero no decir eso por mensaje, disculpe",
        ),
        ("screening", "court"): (
            "si tengo corte, me llego una carta de la corte de inmigracion",
            "no tengo ninguna cita, nunca me han llamado",
        ),
        ("screening", "court_date"): (
            "es el 15 de enero en la mañana, en la corte de Houston",
            "la carta dice que en dos semanas pero no entiendo bien",
        ),
        ("screening", "children"): (
            "si, tengo dos niños que nacieron aqui en Texas",
            "no, mis hijos estan en Mexico con mi mama",
        ),
        ("screening", "status"): (
            "meti mi asilo hace tres años y sigo esperando",
            "no tengo nada de papeles, ni permiso de trabajo",
        ),
        ("screening", "where"): (
            "vivo en Houston por la Bellaire, 77036",
            "en Dallas cerca de la Harry Hines",
        ),
        ("screening", "want"): ("si por favor, quiero hablar con un abogado",),
        ("*", "appointment"): (
            "el {weekday} a las {time} me queda bien porque descanso",
            "la {n} porfa, en las mañanas trabajo",
        ),
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
        ("screening", "years"): (
            "I have been here about 15 years, I came when I was twenty",
            "I only have one year here, I came with my kids",
        ),
        ("screening", "removal"): (
            "no, I was never deported, I have always been here",
            "yes they deported me in 2015 and I came back",
        ),
        ("screening", "arrest"): (
            "once they stopped me driving without a license years ago",
            "I prefer not to say that by text, sorry",
        ),
        ("screening", "court"): (
            "yes I have court, I got a letter from immigration court",
            "no I have no hearing, nobody ever called me",
        ),
        ("screening", "court_date"): (
            "it is January 15 in the morning at the Houston court",
            "the letter says in two weeks but I dont understand it well",
        ),
        ("screening", "children"): (
            "yes I have two kids who were born here in Texas",
            "no, my kids are in Mexico with my mom",
        ),
        ("screening", "status"): (
            "I applied for asylum three years ago and I am still waiting",
            "I have no papers at all, not even a work permit",
        ),
        ("screening", "where"): (
            "I live in Houston near Bellaire, 77036",
            "in Dallas close to Harry Hines",
        ),
        ("screening", "want"): ("yes please, I want to talk to a lawyer",),
        ("*", "appointment"): (
            "{weekday} at {time} works for me because it is my day off",
            "number {n} please, I work in the mornings",
        ),
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
        "screening": (
            "llevo 15 años aqui",
            "tengo 2 hijos nacidos aqui",
            "vivo en Houston 77036",
            "nunca me han arrestado",
            "me llego una carta de la corte",
            "tengo miedo de que me deporten",
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
        "screening": (
            "I have been here 15 years",
            "I have 2 kids born here",
            "I live in Houston 77036",
            "I was never arrested",
            "I got a letter from the court",
            "I am scared they will deport me",
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

# ---------------------------------------------------------------------------------------
# How people say the weekday of a consultation time: the catalog's short name (as offered,
# accents folded, lower case) → the word they write.
WEEKDAYS: Final[dict[str, dict[str, str]]] = {
    "es": {
        "lun": "lunes",
        "mar": "martes",
        "mie": "miercoles",
        "jue": "jueves",
        "vie": "viernes",
        "sab": "sabado",
        "dom": "domingo",
    },
    "en": {
        "mon": "monday",
        "tue": "tuesday",
        "wed": "wednesday",
        "thu": "thursday",
        "fri": "friday",
        "sat": "saturday",
        "sun": "sunday",
    },
}
