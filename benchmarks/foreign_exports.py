"""A second, independent generator of German customer exports with a known truth.

Why this file exists
--------------------
The record linker is tuned against the project's own synthetic data. A linker can overfit a
generator: learn its particular typo model, its name lists, its proportions. This module was
written deliberately WITHOUT looking at the project's generator, linker or tests; the only
inputs were ``docs/source-exports.md`` (file formats) and the sample files in
``tests/fixtures/landing/``. Everything else (name lists, frequencies, household structure,
noise model) comes from general knowledge of real German customer data.

Design
------
1. **Persons live in households.** Singles, couples (mostly married: the wife usually takes
   the husband's name, some keep theirs or build a double name), families with adult
   children at home (sometimes a son named after his father, rarely twins), single parents,
   flat shares. A household shares the address, often a landline and sometimes a family
   mailbox. Some households moved (old address kept for older records); some wives married
   recently (maiden name in older records and in a kept e-mail address).
2. **Names follow German frequencies.** A hand-weighted head of common surnames (Müller about
   0.6 %), migrant-origin names, and a combinatorial tail of name parts (stem + linker +
   suffix, Slavic and patronymic forms, ``von`` names, old spelling variants such as
   Meyer/Meier or Keßler/Kessler as separate families) giving tens of thousands of rare
   surnames. First names are drawn per gender and birth cohort, with a rare-German and an
   international tail. Common full names (``Thomas Müller``) therefore recur as different
   people.
3. **Records are drawn per source** with source-specific habits: the shop has most fields,
   the newsletter often only an e-mail, the hotline a name typed by ear plus a caller
   number, the tills an address from a paper form and sometimes a birth date. Persons appear
   in one or several systems, some with two shop accounts, several cards or many calls.
4. **Noise is applied per record** (see ``RATES``): keyboard typos, phonetic spellings,
   umlaut transliteration, case/space noise, nicknames, partial double names, swapped name
   fields, titles, street/house-number/phone/e-mail notations, missing fields, old data.

Output: ``<out>/landing/{shop,newsletter,hotline,pos}/`` (one delivery day, formats as in
the docs: JSON Lines; UTF-8 CSV with BOM; UTF-8 CSV with multi-line notes; cp1252 CSV with
semicolons, CRLF and German dates/amounts) and ``<out>/truth/records.csv`` with
``source,source_record_id,person_id`` for every record written. Every file is well-formed:
the noise is in the content, never in the bytes or the quoting. Same seed and persons count
give byte-identical output (no hash-order dependence).

Usage::

    .venv/bin/python benchmarks/foreign_exports.py --persons 100000 --seed 7 \
        --out benchmarks/out/foreign_100000
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import random
import re
import time
from bisect import bisect
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

EXPORT_DAY = date(2026, 11, 20)
EXPORT_DT = datetime(2026, 11, 20, 6, 0, 0)

# ----------------------------------------------------------------------------------------
# Reference data. Weights are rough shares of the German population (per 100,000).
# ----------------------------------------------------------------------------------------
SURNAME_HEAD = """Müller 600 Schmidt 440 Schneider 250 Fischer 230 Weber 205 Meyer 195 Wagner 185
Becker 175 Schulz 170 Hoffmann 165 Schäfer 150 Koch 145 Bauer 145 Richter 140 Klein 140 Wolf 135
Schröder 130 Neumann 128 Schwarz 125 Zimmermann 122 Braun 118 Krüger 116 Hofmann 115 Hartmann 113
Lange 110 Schmitt 108 Werner 106 Schmitz 105 Krause 103 Meier 101 Lehmann 100 Schmid 98 Schulze 96
Maier 94 Köhler 92 Herrmann 90 König 88 Walter 86 Mayer 85 Huber 84 Kaiser 82 Fuchs 81 Peters 80
Lang 79 Scholz 78 Möller 77 Weiß 76 Jung 75 Hahn 74 Schubert 73 Vogel 72 Friedrich 71 Keller 70
Günther 69 Frank 68 Berger 67 Winkler 66 Roth 65 Beck 64 Lorenz 63 Baumann 62 Franke 61 Albrecht 60
Schuster 59 Simon 58 Ludwig 57 Böhm 56 Winter 55 Kraus 54 Martin 54 Schumacher 53 Krämer 53 Vogt 52
Stein 52 Jäger 51 Otto 51 Sommer 50 Groß 50 Seidel 49 Heinrich 49 Brandt 48 Haas 48 Schreiber 47
Graf 47 Schulte 46 Dietrich 46 Ziegler 45 Kuhn 45 Kühn 44 Pohl 44 Engel 43 Horn 43 Busch 42
Bergmann 42 Thomas 41 Voigt 41 Sauer 40 Arnold 40 Wolff 39 Pfeiffer 39"""
# ranks ~100-300: weights decay from ~38 to ~12 in list order
SURNAME_MID = """Schütz Ernst Lindner Franz Hübner Kramer Fiedler Marx Ritter Kaufmann Wendt Jakob
Brinkmann Beyer Haase Schenk Böttcher Thiel Kroll Förster Lenz Schilling Hermann Kuhlmann Kurz
Ebert Paul Link Wilhelm Dörr Michel Nagel Gross Rausch Reuter Bader Hesse Brand Witt Hein Brauer
Gerlach Heinz Mohr Schumann Ulrich Hartung Thiele Pietsch Hagen Schramm Petersen Jansen Stark
Heck Dietz Rieger Schott Fritz Berg Bruns Wiegand Hauser Kirchner Küster Schön Wulf Schlegel
Kohl Hennig Timm Stahl Eckert Ott Sander Bischoff Wegner Maurer Beckmann Rosenberger Nowak Adam
Hansen Janssen Ahrens Heß Gruber Langer Riedel Kunz Freitag Schüler Kessler Philipp Hummel Geiger
Menzel Busse Grimm Behrens Weise Seifert Schwab Popp Lohmann Vogl Konrad Rothe Hinz Dittrich
Straub Baier Blum Hoppe Geyer Wenzel Haupt Hecht Kern Wieland Lutz Henning Göbel Wittmann Hager
Funk Zander Thieme Wirth Jahn Brenner Kopp Engelhardt Hirsch Rudolph Reinhardt Lindemann Mertens
Sturm Buchholz Mann Kühne Bayer Moser Berndt Jacob Marquardt Schwarze Pfaff Rupp Ludewig Roder
Decker Schade Weis Seeger Kruse Heinemann Stock Dreyer Fink Hammer Arndt Springer Bühler Strauß
Voß Matthes Hermes Steffen Franzen Böhme Wiese Kolb Lux Olbrich Brückner Bartsch Reichert Laux
Wendel Fröhlich Schaller Hering Noack Kunze Gärtner Bock Riedl Baum Buck Renner Gebhardt Bernhardt
Vetter Reichel Kluge Runge Schwarzer Heil Linke Mai Haag Vollmer Jürgens Meister Wolters Hoffmeister"""
SURNAME_MIGRANT = """Yilmaz 40 Kaya 25 Demir 25 Sahin 20 Çelik 18 Öztürk 15 Aydin 15 Özdemir 15
Arslan 14 Dogan 14 Kilic 12 Nowak 20 Kowalski 15 Wójcik 8 Lewandowski 10 Kaminski 10
Zielinski 8 Szymanski 8 Nguyen 12 Tran 6 Ivanov 8 Petrov 6 Popovic 8 Jovanovic 6 Horvat 6 Rossi 8
Russo 6 Esposito 5 Ferrari 5 Papadopoulos 6 Georgiou 4 Hussein 6 Ali 10 Ahmadi 5 Haddad 4
Garcia 6 Fernandes 6 Silva 6 Costa 5 Santos 5 Kovac 6 Novak 6 Schewtschenko 4 Bondarenko 4
Kuznetsov 4 Dos Santos 3 Rodríguez 3 López 3 Yildiz 12 Aksoy 6 Koç 5 Polat 6
Erdogan 5 Kurt 8 Özkan 6 Günes 5 Akbulut 3"""  # spelled as German registers write them (cp1252)
TAIL_STEMS = """Brand Stein Holz Berg Wald Feld Hof Bach Mühl Lind Eich Rosen Ober Unter Neu Alt
Kirch Schön Gut Wein Stroh Kalt Hoch Breit Gold Silber Eisen Kupfer Blum Grün Rot Busch Dorn
Fels Moos Tann Buch Esch Hassel Heid Hage Rein Hein Diet Gott Fried Sieg Bern Hart Wend Ross Ham
Lüd Hil Wal Rich Kon Hel Arn Bert Ger Gun Lieb Helm Kamp Wies Bruch Mar Sand Haber Roggen Korn
Apfel Birn Kirsch Nuss Dreh Schmied Zimmer Kessel Fass Glas Hammer Nagel Sattel Seil Topf Kranz
Sonn Mond Stern Früh Spät Lamm Ochs Kalb Hirsch Falk Adler Rab Storch Hecht Bock Bär Grimm Kühl
Mit Tal Grab Rod Ried Loh Brink Stock Rau Haupt Kopp Fahr Schwan Dreis Kling Schwing Streck
Pflug Ack Mohn Lein Flachs Hanf Wach Wart Thür Gieß Haus Brück Damm Deich Marsch Heck Hain Schmal
Lust Frey Hell Dunk Kreb Oster Wester Süd Nord Sonder Ebel Engel Wint Land Stadt Dorf Brunn Quell
Acker Ahl Alb Amm Asch Baum Bier Bind Bleich Blank Bran Breu Brenn Brod Burg Dahl Dann Degen Dick
Dörr Eck Eng Erl Ett Forst Frei Gais Gal Glock Gram Greif Grell Gries Hab Hack Hahn Hall Hasen Hauf
Heg Heim Henn Herb Herz Hess Hick Himm Hinter Hoh Holl Horn Hub Hund Imm Jung Kalk Kap Karl Kast
Kell Kemm Kerk Kies Kipp Klett Knapp Knoll Kolb Kratz Kreutz Kroll Kunz Lamp Laub Lehm Leit Lenn
Loos Mack Mang Mehl Mett Metz Mies Mohr Mos Münch Netz Nieder Ohr Ort Pfann Pfeff Platz Pohl
Rapp Reck Reh Reis Renn Rieg Ring Rohr Rott Rühl Saal Salz Schad Scheid Schick Schind Schlag Schnell
Schott Schrein Schwab Seel Seid Senn Sieb Spann Speck Spiel Stahl Stang Staub Steg Stier Stoll
Sturm Tisch Traut Treu Trost Vier Wall Wann Wass Weid Weil Werd Will Wind Witt Wohl Wurm Zahn Zell
Zins Zorn"""
# linking sounds only where German uses them: Lindenberg, Eichenfeld, Hartsbach
EN_STEMS = set("Lind Eich Buch Tann Ross Wies Heid Hag Wald Stern Kirch Brunn Sonn Falk Ochs Hirsch".split())
S_STEMS = set("Hart Land Ried Bern Hil Rich Kon Arn Gott Dreis".split())
PLACE_SUFFIXES = set("berg burg bach feld haus hausen horst stedt beck wald thal stein kamp brink hagen "
                     "loh rode winkel mühle".split())
TAIL_SUFFIXES = """mann er ner ler inger hardt berg burg bach feld meyer meier müller schmidt hofer
huber ke kamp haus hausen brink horst stedt beck wald thal stein rath bauer meister macher dörfer
gruber egger linger mayr reuther wirth ecker hauer ing rich bold wig ert hold kötter husen lage
mühle bichler moser leitner kirchner weber hagen loh wedel kemper böhmer schläger träger bichl
reiter huth hammer felder scheidt ow rode winkel le lein ling hof hoff ig stätter brock busch heuer
knecht horn hase hube eder rieder gartner ritter"""
SLAVIC_STEMS = """Kowal Jan Nowo Lem Rad Jahn Koschn Wisn Bartk Pasch Grab Zach Kub Dobr Mal Sob
Pawl Wojt Ziel Kral Mich Stan Gorz Lisz Mazur Kasp Rutk Sikor Pietr Szul Lesn Nitsch Kutsch Wol
Krzyz Jasch Matsch Bor"""
SLAVIC_SUFFIXES = ["ski", "ke", "ow", "itz", "ek", "czyk", "iak", "ka", "ewski"]
PATRONYM_STEMS = """Peter Jan Hinrich Harm Jakob Martin Paul Simon Claus Diedrich Albert Ebert Gerd
Lüdd Otten Will Jür Brenn Hans Nick Tönn Ohl Frerich Boy Momm Reim Göd Thiess Carst Ipp"""
PATRONYM_SUFFIXES = ["s", "sen", "sen", "ing", "ens", "ert", "ke", "mann"]
SPELLING_VARIANTS = [(re.compile(a), b) for a, b in [
    ("ei", "ey"), ("ei", "ai"), ("mann$", "man"), ("([aeiouäöü])k", r"\1ck"), ("ck", "k"),
    ("([nr])t$", r"\1dt"), ("dt$", "t"), ("ss", "ß"), ("ß", "ss"), ("ä", "ae"), ("ö", "oe"),
    ("ü", "ue"), ("([aeiou])f([^f]|$)", r"\1ff\2"), ("ff", "f"), ("([aeiou])z", r"\1tz"),
    ("th", "t"), ("([aeiou])mer$", r"\1mmer")]]

# first names per gender and birth cohort (<1955, 1955-69, 1970-84, 1985-99, 2000+), by rank
FIRST = {
    ("m", 0): """Hans Peter Klaus Wolfgang Jürgen Dieter Horst Günter Manfred Werner Heinz Gerhard
Helmut Karl Walter Rolf Bernd Uwe Rainer Hans-Jürgen Karl-Heinz Heinz-Dieter Hermann Friedrich
Erich Kurt Wilhelm Josef Siegfried Norbert Lothar Harald Gerd Joachim Hans-Peter Franz Ernst Georg
Otto Rudolf Hans-Joachim Reinhard""",
    ("f", 0): """Ursula Renate Helga Karin Monika Brigitte Gisela Ingrid Elisabeth Christa Erika
Hannelore Barbara Marianne Gertrud Inge Edith Irmgard Rosemarie Gabriele Margarete Anneliese
Waltraud Heidi Elke Sigrid Doris Hildegard Ilse Gudrun Marlies Christel Ingeborg Anna-Maria
Roswitha Johanna Ruth Maria Anna Hedwig Liselotte""",
    ("m", 1): """Thomas Michael Andreas Frank Stefan Peter Jürgen Uwe Ralf Bernd Jörg Klaus
Wolfgang Matthias Martin Thorsten Dirk Holger Joachim Rainer Markus Hans-Jürgen Karl-Heinz Detlef
Norbert Volker Harald Armin Olaf Ulrich Achim Reinhard Dieter Gerd Christian Carsten Rüdiger
Hans-Peter Heiko Axel Bernhard""",
    ("f", 1): """Sabine Petra Susanne Andrea Gabriele Birgit Claudia Monika Martina Heike Karin
Angelika Ute Kerstin Cornelia Barbara Christine Elke Silke Brigitte Marion Renate Bettina Doris
Regina Beate Manuela Jutta Ulrike Iris Dagmar Annette Sigrid Ingrid Carola Anke Gudrun Rita
Veronika Elisabeth""",
    ("m", 2): """Christian Michael Stefan Thomas Markus Andreas Daniel Sebastian Alexander Tobias
Jan Florian Oliver Sven Dennis Marco Matthias Tim Martin Frank Dirk Jens Torsten Carsten Björn
Patrick Jörg Kai Mario Sascha Marcel René Heiko Nils Benjamin Philipp Timo Holger Maik Ralf
Johannes""",
    ("f", 2): """Nicole Stefanie Sandra Katrin Claudia Andrea Melanie Julia Anja Christina Susanne
Tanja Sabine Daniela Kerstin Silke Katharina Nadine Simone Martina Jessica Yvonne Sarah Bianca
Kathrin Christiane Manuela Heike Ines Jana Sonja Anke Karin Birgit Petra Maren Miriam Stephanie
Nina Diana Franziska""",
    ("m", 3): """Daniel Kevin Jan Dennis Tobias Florian Sebastian Patrick Christian Michael
Alexander Philipp Marcel Lukas Tim Niklas Jonas Maximilian Felix Julian David Simon Marco Fabian
Dominik Robin Pascal Benjamin Max Moritz Nico Tom Leon Paul Kai Jannik Marvin Justin Lars Sven
Johannes""",
    ("f", 3): """Julia Sarah Lisa Anna Laura Katharina Jennifer Jessica Christina Vanessa Lena
Sandra Nicole Melanie Stefanie Sabrina Michelle Jana Kathrin Nadine Lea Hannah Sophie Leonie
Johanna Franziska Janina Carina Marie Anja Kristina Maria Nina Svenja Alina Annika Denise Natalie
Theresa Miriam Magdalena""",
    ("m", 4): """Lukas Leon Luca Finn Jonas Tim Niklas Luis Felix Jan Maximilian Paul Ben Noah Elias
Julian Moritz Philipp Tom Jannik Nico Fabian David Erik Alexander Max Simon Louis Henri Jakob Emil
Anton Linus Mats Lennard Till Hannes Jonathan Vincent Oskar""",
    ("f", 4): """Lea Anna Hannah Lena Emma Sophie Mia Laura Lara Leonie Julia Marie Lisa Sarah
Johanna Emily Lina Amelie Alina Clara Charlotte Jana Luisa Nele Paula Maja Katharina Sophia Pia
Celina Emilia Antonia Michelle Vanessa Greta Ida Frieda Merle Mila Zoe""",
}
RARE_FIRST = {
    "m": """Benedikt Ferdinand Gottfried Konrad Ludger Meinolf Wendelin Bertram Hubertus Eckhard
Volkmar Winfried Gunnar Jost Hinrich Eike Ansgar Arnd Baldur Cord Edgar Gebhard Hartmut Ingo Knut
Leopold Malte Nepomuk Quirin Sönke Tjark Ulf Veit Wigbert Xaver Sigurd Erwin Alfons Bruno Emil""",
    "f": """Adelheid Mechthild Walburga Wiebke Frauke Imke Hiltrud Gesine Rieke Swantje Jette
Almut Annegret Brunhilde Dörte Editha Friederike Gerlinde Hermine Irmtraud Jutta Kunigunde Lieselotte
Mareike Notburga Ottilie Philippa Rosalie Silja Theda Uta Vroni Wilma Xenia Antje Elfriede Frieda""",
}
INTL_FIRST = {
    "m": """Mehmet Ahmet Ali Mustafa Hüseyin Murat Emre Can Kemal Yusuf Mohammed Omar Piotr Tomasz
Krzysztof Dragan Goran Mirko Nikola Igor Dmitri Sergej Waldemar Viktor Eugen Alexej Giuseppe Marco
Antonio José Luca Andrea Hassan Ibrahim Tuan Minh Ivan Vladimir Artur Arkadiusz""",
    "f": """Ayse Fatma Elif Zeynep Özlem Gül Selin Aylin Emine Fatima Olga Natalia Katarzyna
Agnieszka Ivana Jelena Svetlana Irina Ludmila Tatjana Swetlana Marta Aleksandra Francesca Giulia
Ana Maria-José Leyla Yasemin Dilara Mariam Nour Thi Lan Oksana Galina Valentina Monika Beata""",
}
# real German hypocorisms; a record may carry the short form instead of the given name
NICKNAMES = {
    "Hans-Jürgen": ["Jürgen", "Hajo"], "Karl-Heinz": ["Kalle", "Heinz", "Karlheinz"],
    "Hans-Peter": ["Peter", "HP"], "Hans-Joachim": ["Hajo", "Joachim", "Achim"],
    "Heinz-Dieter": ["Dieter", "Heinz"], "Elisabeth": ["Lisa", "Sissi", "Elli", "Liesel", "Betti"],
    "Wolfgang": ["Wolf", "Wolle"], "Johannes": ["Hannes", "Jo", "Johann"],
    "Alexander": ["Alex"], "Christian": ["Chris"], "Christina": ["Tina", "Chrissi"],
    "Christine": ["Tine", "Chrissi"], "Katharina": ["Kathi", "Katja", "Trina"],
    "Margarete": ["Grete", "Gretel", "Margit"], "Friedrich": ["Fritz"], "Wilhelm": ["Willi"],
    "Josef": ["Sepp", "Jupp"], "Franziska": ["Franzi"], "Stefanie": ["Steffi"],
    "Stephanie": ["Steffi"], "Matthias": ["Matze", "Hias"], "Maximilian": ["Max", "Maxi"],
    "Michael": ["Micha", "Michi", "Mike"], "Thomas": ["Tom", "Tommi"], "Andreas": ["Andi"],
    "Daniel": ["Dani"], "Sebastian": ["Basti"], "Tobias": ["Tobi"], "Florian": ["Flo"],
    "Benjamin": ["Ben", "Benni"], "Jennifer": ["Jenny"], "Jessica": ["Jessi"],
    "Susanne": ["Susi", "Sanne"], "Gabriele": ["Gabi"], "Barbara": ["Babsi", "Bärbel"],
    "Ursula": ["Uschi", "Ulla"], "Angelika": ["Angie", "Geli"], "Cornelia": ["Conny"],
    "Veronika": ["Vroni"], "Theresa": ["Resi"], "Rosemarie": ["Rosi"],
    "Hannelore": ["Hanne", "Lore"], "Ingeborg": ["Inge"], "Manfred": ["Manni", "Fred"],
    "Bernhard": ["Bernd"], "Gerhard": ["Gerd"], "Reinhard": ["Reini"], "Heinrich": ["Heinz"],
    "Johanna": ["Hanna"], "Magdalena": ["Lena", "Leni"], "Anna-Maria": ["Anna", "Annemarie"],
    "Niklas": ["Nick"], "Patrick": ["Paddy"], "Kristina": ["Tina"], "Nicole": ["Nicki"],
    "Sabine": ["Bine"], "Ulrich": ["Uli"], "Ulrike": ["Uli", "Rike"], "Rudolf": ["Rudi"],
    "Peter": ["Pit"], "Martina": ["Tina"], "Monika": ["Moni"], "Andrea": ["Andi"],
    "Daniela": ["Dani"], "Alexandra": ["Alex", "Sandra"], "Dominik": ["Domi"],
    "Joachim": ["Achim", "Jochen"], "Friederike": ["Rieke", "Frieda"], "Philipp": ["Phil"],
    "Helmut": ["Helle"], "Nikolaus": ["Klaus", "Niko"], "Jakob": ["Jakki"], "Julia": ["Jule"],
    "Mehmet": ["Memo"], "Giuseppe": ["Beppe"], "Waldemar": ["Waldi"], "Eugen": ["Jenja"],
}
STREET_POOL = """Hauptstraße Schulstraße Gartenstraße Bahnhofstraße Dorfstraße Bergstraße Birkenweg
Lindenstraße Kirchstraße Waldstraße Ringstraße Schillerstraße Goethestraße Amselweg Jahnstraße
Wiesenweg Rosenweg Mühlenweg Beethovenstraße Mozartstraße Friedhofstraße Feldstraße Poststraße
Parkstraße Industriestraße Talstraße Sonnenstraße Blumenstraße Tulpenweg Fliederweg Ahornweg
Eichenweg Buchenweg Tannenweg Kastanienallee Lindenallee Schloßstraße Mittelweg Holzweg Mühlgasse
Kirchgasse Lessingstraße Uhlandstraße Eichendorffstraße Kaiserstraße Wilhelmstraße Luisenstraße
Friedrichstraße Marktstraße Wiesenstraße Brunnenstraße Gartenweg Drosselweg Finkenweg Meisenweg
Lerchenweg Kiefernweg Erlenweg Weidenweg Ulmenweg Hochstraße Breite_Straße Lange_Straße
Neue_Straße Alte_Straße Berliner_Straße Breslauer_Straße Königsberger_Straße Danziger_Straße
Stettiner_Straße Hamburger_Straße Frankfurter_Straße Münchner_Straße Kölner_Straße Am_Markt
Marktplatz Am_Sportplatz Auf_dem_Berg Im_Winkel Zur_Mühle An_der_Kirche Am_Anger Grüner_Weg
Am_Bahnhof Am_Hang Im_Grund Zum_Sportplatz Friedrich-Ebert-Straße Konrad-Adenauer-Straße
Karl-Marx-Straße Heinrich-Heine-Straße Robert-Koch-Straße Albert-Schweitzer-Straße
Otto-Hahn-Straße Max-Planck-Straße Carl-Benz-Straße Gottlieb-Daimler-Straße Rathenaustraße
Bismarckstraße Moltkestraße Humboldtstraße Kantstraße Herderstraße Mörikestraße Hölderlinweg
Rilkestraße Brahmsstraße Schubertstraße Händelstraße Bachstraße Haydnstraße Wagnerstraße
Regerstraße Dürerstraße Keplerstraße Leibnizstraße Gutenbergstraße Kolpingstraße Pestalozzistraße
Fröbelstraße Steinstraße Sandweg Heideweg Moorweg Brückenstraße Hafenstraße Uferstraße Deichstraße
Kanalstraße Wallstraße Gerberstraße Färberstraße Webergasse Bäckerstraße Schmiedestraße
Kirchplatz Rathausplatz Schlossallee Parkallee Am_Stadtpark Sudetenstraße Ostpreußenstraße
Pommernweg Schlesierstraße Rheinstraße Mainstraße Elbstraße Weserstraße Donaustraße Neckarstraße
Isarstraße Oderstraße Moselstraße Ahrstraße Lahnstraße Eschenweg Akazienweg Holunderweg
Wacholderweg Hagebuttenweg Mohnweg Kornblumenweg Nelkenweg Lilienweg Veilchenweg Asternweg
Dahlienweg Kamillenweg Sonnenblumenweg Im_Wiesengrund Hinter_den_Höfen Unterdorf Oberdorf
Kreuzstraße Lindenplatz Goetheplatz Schillerplatz Leipziger_Straße Dresdner_Straße Augsburger_Straße"""
STREET_STEMS = """Ahorn Birken Buchen Eichen Erlen Fichten Linden Tannen Ulmen Weiden Amsel Drossel
Finken Lerchen Meisen Falken Rosen Tulpen Nelken Flieder Mühlen Brunnen Kirch Schul Garten Wiesen
Feld Wald Berg Tal Sonnen Stern Mond Hasel Holunder Schlehen Brombeer Himbeer Kirschen Apfel Nuss
Hopfen Weinberg Steinbruch Ziegel Kalk Salz Eisen Gold Silber Kupfer Lehm Sand Moor Heide""".split()
STREET_KINDS = ["straße", "weg", "weg", "ring", "allee", "gasse", "platz", "damm", "steig", "pfad"]

# (name, first PLZ, last PLZ, area code, population in thousands, other spellings)
CITIES_DE = """Berlin|10115|14199|030|3700|Berlin-Mitte,Berlin-Neukölln
Hamburg|20095|22769|040|1850|Hamburg-Altona
München|80331|81929|089|1500|Muenchen,Munchen,Munich
Köln|50667|51149|0221|1080|Koeln,Koln,Cologne
Frankfurt am Main|60306|60599|069|760|Frankfurt,Frankfurt a.M.,Frankfurt/Main,Ffm
Stuttgart|70173|70629|0711|630|Stgt.
Düsseldorf|40210|40629|0211|620|Duesseldorf
Leipzig|04103|04357|0341|600|
Dortmund|44135|44388|0231|590|
Essen|45127|45359|0201|580|
Bremen|28195|28779|0421|570|
Dresden|01067|01328|0351|560|
Hannover|30159|30669|0511|540|Hannover-Linden
Nürnberg|90402|90491|0911|520|Nuernberg,Nbg.
Duisburg|47051|47279|0203|500|
Bochum|44787|44894|0234|365|
Wuppertal|42103|42399|0202|355|Wuppertal-Elberfeld
Bielefeld|33602|33739|0521|335|
Bonn|53111|53229|0228|330|Bonn-Bad Godesberg
Münster|48143|48167|0251|315|Muenster,Münster (Westf.)
Mannheim|68159|68309|0621|310|
Karlsruhe|76131|76229|0721|305|
Augsburg|86150|86199|0821|300|
Wiesbaden|65183|65207|0611|280|
Mönchengladbach|41061|41239|02161|260|MG,Moenchengladbach
Gelsenkirchen|45879|45899|0209|260|
Aachen|52062|52080|0241|250|
Braunschweig|38100|38126|0531|250|
Kiel|24103|24159|0431|245|
Chemnitz|09111|09247|0371|245|
Halle (Saale)|06108|06132|0345|240|Halle,Halle/Saale,Halle a.d. Saale
Magdeburg|39104|39130|0391|235|
Freiburg im Breisgau|79098|79117|0761|230|Freiburg,Freiburg i. Br.
Krefeld|47798|47839|02151|225|
Mainz|55116|55131|06131|220|
Lübeck|23552|23570|0451|215|Luebeck
Erfurt|99084|99099|0361|215|
Oberhausen|46045|46149|0208|210|
Rostock|18055|18147|0381|210|
Kassel|34117|34134|0561|200|
Potsdam|14467|14482|0331|185|
Saarbrücken|66111|66133|0681|180|Saarbruecken
Ludwigshafen am Rhein|67059|67071|0621|172|Ludwigshafen
Oldenburg|26121|26135|0441|170|Oldenburg (Oldb)
Osnabrück|49074|49090|0541|165|Osnabrueck
Darmstadt|64283|64297|06151|160|
Heidelberg|69115|69126|06221|160|
Regensburg|93047|93059|0941|153|
Paderborn|33098|33106|05251|152|
Neuss|41460|41472|02131|153|
Solingen|42651|42719|0212|159|
Ingolstadt|85049|85057|0841|138|
Würzburg|97070|97084|0931|127|Wuerzburg
Fürth|90762|90768|0911|129|Fuerth
Ulm|89073|89081|0731|126|
Heilbronn|74072|74081|07131|126|
Pforzheim|75172|75181|07231|126|
Wolfsburg|38440|38448|05361|124|
Göttingen|37073|37085|0551|118|Goettingen
Bottrop|46236|46244|02041|117|
Reutlingen|72760|72770|07121|116|
Koblenz|56068|56077|0261|114|
Bremerhaven|27568|27580|0471|113|
Erlangen|91052|91058|09131|113|
Jena|07743|07751|03641|110|
Trier|54290|54296|0651|110|
Recklinghausen|45657|45665|02361|110|
Hildesheim|31134|31141|05121|101|
Cottbus|03042|03055|0355|99|
Hanau|63450|63457|06181|97|
Tübingen|72070|72076|07071|91|Tuebingen
Flensburg|24937|24944|0461|90|
Gießen|35390|35398|0641|90|Giessen
Zwickau|08056|08066|0375|87|
Konstanz|78462|78467|07531|85|
Lüneburg|21335|21339|04131|77|Lueneburg
Marburg|35037|35043|06421|77|Marburg/Lahn
Bamberg|96047|96052|0951|77|
Celle|29221|29229|05141|70|
Fulda|36037|36043|0661|68|
Kempten (Allgäu)|87435|87439|0831|69|Kempten
Rosenheim|83022|83026|08031|64|
Weimar|99423|99427|03643|65|
Frankfurt (Oder)|15230|15236|0335|57|Frankfurt/Oder,Frankfurt
Neustadt an der Weinstraße|67433|67435|06321|53|Neustadt,Neustadt/Weinstr.,Neustadt a.d. Weinstraße
Neustadt am Rübenberge|31535|31535|05032|45|Neustadt,Neustadt a. Rbge.
Neustadt bei Coburg|96465|96465|09568|16|Neustadt,Neustadt b. Coburg
Neustadt in Holstein|23730|23730|04561|16|Neustadt,Neustadt i. H.
Halle (Westf.)|33790|33790|05201|21|Halle,Halle Westfalen
Husum|25813|25813|04841|23|
Bad Tölz|83646|83646|08041|19|Bad Toelz"""
CITIES_FOREIGN = """AT|Wien|1010|1230|01|1900|Vienna
AT|Graz|8010|8055|0316|290|
AT|Linz|4020|4040|0732|200|
AT|Salzburg|5020|5026|0662|155|
AT|Innsbruck|6020|6080|0512|130|
CH|Zürich|8001|8057|044|420|Zuerich,Zurich
CH|Basel|4051|4059|061|175|
CH|Bern|3011|3027|031|135|
CH|Luzern|6003|6006|041|82|
CH|St. Gallen|9000|9016|071|76|St.Gallen"""
VILLAGE_PREFIX = ["", "", "", "", "Ober", "Nieder", "Groß", "Klein", "Alt", "Neu", "Bad ", "Unter"]
VILLAGE_SUFFIX = ["dorf", "hausen", "heim", "ingen", "feld", "bach", "berg", "rode", "stedt",
                  "weiler", "kirchen", "hofen", "au", "born", "brück"]
MOBILE_PREFIX = {"49": "151 152 157 159 160 162 163 170 171 172 173 174 175 176 177 178 179",
                 "43": "664 676 699 650 660", "41": "79 78 76 77"}
EMAIL_DOMAINS = {"DE": "gmx.de 20 web.de 19 gmail.com 20 t-online.de 11 yahoo.de 4 outlook.de 4 "
                       "hotmail.de 3 freenet.de 2 icloud.com 3 posteo.de 1 mail.de 1 aol.com 1 "
                       "arcor.de 1 googlemail.com 2 gmx.net 3 online.de 1 email.de 1 web.de 1",
                 "AT": "gmx.at 25 aon.at 15 gmail.com 30 chello.at 8 a1.net 8 hotmail.com 6",
                 "CH": "bluewin.ch 30 gmx.ch 20 gmail.com 30 hispeed.ch 8 sunrise.ch 6"}
INTERESTS = "Garten Reisen Kochen Mode Technik Sport Radsport Wohnen Kinder Haustiere Angebote " \
            "Bücher Heimwerken Wellness Outdoor".split()
TOPICS = ["Rechnung", "Retoure", "Lieferung", "Kundenkarte", "Reklamation", "Newsletter",
          "Passwort", "Datenschutz", "Adressänderung", "Bestellung", "Gutschein", "Sonstiges"]
TOPIC_W = [14, 13, 16, 9, 10, 4, 6, 2, 5, 12, 4, 5]
NOTES = {
    "Rechnung": ["Rechnung {n} doppelt abgebucht, bittet um Erstattung.",
                 "Mahnung erhalten, obwohl am {d} bezahlt. Beleg liegt vor, schickt Kopie",
                 "Fragt nach Rechnungskopie, per Mail."],
    "Retoure": ["Fragt nach Retourenlabel, \"dringend\"", "Retoure vom {d} noch nicht gutgeschrieben",
                "Ware zurückgeschickt,\nGeld aber noch nicht da. Nachgefragt beim Lager"],
    "Lieferung": ["Paket nicht angekommen, Sendungsnummer {n}", "Lieferung beschädigt.\nFotos per Mail zugesagt",
                  "Kunde fragt, wann \"endlich\" geliefert wird", "Falscher Artikel geliefert, Größe {s} statt {s2}"],
    "Kundenkarte": ["Karte verloren.\nNeue Karte angefordert.", "Punkte fehlen auf der Karte, Einkauf am {d}",
                    "Karte defekt, Magnetstreifen; Ersatz bestellt"],
    "Reklamation": ["Artikel nach 2 Wochen defekt, Kunde sehr verärgert: \"nie wieder\"",
                    "Reklamation Bestellung {n}, Gutschrift 15 EUR angeboten, angenommen",
                    "Schuhe lösen sich auf,\nKulanz geprüft"],
    "Newsletter": ["Will keine Werbung mehr, \"sofort abmelden\"", "Bekommt Newsletter doppelt, zwei Adressen?"],
    "Passwort": ["Kann sich nicht einloggen, Reset-Mail kommt nicht an", "Konto gesperrt nach 3 Versuchen, entsperrt"],
    "Datenschutz": ["Möchte wissen, welche Daten gespeichert sind (Art. 15). An DS-Team weitergeleitet"],
    "Adressänderung": ["Umgezogen, neue Anschrift: {addr}", "Neue Adresse ab {d}:\n{addr}"],
    "Bestellung": ["Möchte Bestellung {n} stornieren, Rückruf erbeten", "Fragt nach Liefertermin für Bestellung {n}",
                   "Bestellung telefonisch aufgenommen, Zahlung per Rechnung"],
    "Gutschein": ["Gutscheincode {c} wird nicht akzeptiert", "Gutschein abgelaufen, Kulanz: verlängert bis {d}"],
    "Sonstiges": ["Rückruf erbeten.", "Kunde hat aufgelegt", "Allgemeine Frage zu Öffnungszeiten, erledigt", ""],
}
COMPANY_FORMS = ["{s} GmbH", "Bäckerei {s}", "Praxis Dr. {s}", "{s} & Söhne KG", "Ingenieurbüro {s}",
                 "Elektro {s} e.K.", "{s} Immobilien", "Kanzlei {s}", "privat", "-"]

# How often each kind of noise hits a record, per source. Hotline names are typed by ear,
# till forms are handwritten and retyped, so those two are the noisiest. Per name field:
# typo (15 % of those get a second slip), phonetic spelling, lower/upper case, stray spaces;
# per record: nick(name), partial (double first/surname given partly), middle name added,
# swap (first/last), title shown, ue/plain (umlauts as ue / dropped), street/PLZ typos.
RATES = {
    "shop": dict(typo=.025, phonetic=.005, nick=.04, partial=.30, middle=.08, swap=.012, title=.40,
                 ue=.05, plain=.01, lower=.03, upper=.01, space=.03, street_typo=.015, plz_typo=.005),
    "newsletter": dict(typo=.02, phonetic=.005, nick=.06, partial=.35, middle=.03, swap=.01, title=.10,
                       ue=.04, plain=.01, lower=.06, upper=.01, space=.03, street_typo=0, plz_typo=0),
    "pos": dict(typo=.06, phonetic=.02, nick=.03, partial=.25, middle=.10, swap=.015, title=.30,
                ue=.02, plain=.01, lower=.02, upper=.06, space=.04, street_typo=.04, plz_typo=.012),
    "hotline": dict(typo=.07, phonetic=.10, nick=.10, partial=.45, middle=.02, swap=.02, title=.50,
                    ue=.10, plain=.05, lower=.05, upper=.01, space=.05, street_typo=.05, plz_typo=.01),
}


def words(text: str) -> list[str]:
    return text.split()


def pairs(text: str) -> tuple[list[str], list[float]]:
    """'Name weight Name weight …' -> names, weights; a name may have two words."""
    toks = text.split()
    names, weights = [], []
    i = 0
    while i < len(toks):
        j = i  # a name may be two words ("Dos Santos")
        while not toks[j + 1].isdigit():
            j += 1
        names.append(" ".join(toks[i:j + 1]))
        weights.append(float(toks[j + 1]))
        i = j + 2
    return names, weights


# ----------------------------------------------------------------------------------------
# Random helpers
# ----------------------------------------------------------------------------------------
class Dice(random.Random):
    """Python-level randomness for the branchy per-person and per-record logic."""

    def p(self, prob: float) -> bool:
        return self.random() < prob

    def pick(self, seq):
        return seq[int(self.random() * len(seq))]

    def wpick(self, items, cum):
        return items[bisect(cum, self.random() * cum[-1])]

    def day(self, lo: date, hi: date) -> date:
        return lo + timedelta(days=int(self.random() * ((hi - lo).days + 1)))

    def moment(self, lo: datetime, hi: datetime) -> datetime:
        return lo + timedelta(seconds=int(self.random() * (hi - lo).total_seconds()))


def cumulative(weights):
    return list(np.cumsum(np.asarray(weights, dtype=float)))


class Bag:
    """Weighted draws pre-sampled with numpy in chunks, handed out one at a time.

    Name draws are the bulk of the random numbers; sampling them vectorised keeps the
    household loop fast without making it harder to read."""

    def __init__(self, rng: np.random.Generator, make_chunk):
        self.rng, self.make_chunk, self.buf, self.i = rng, make_chunk, [], 0

    def next(self):
        if self.i >= len(self.buf):
            self.buf, self.i = self.make_chunk(self.rng, 1 << 15), 0
        self.i += 1
        return self.buf[self.i - 1]


def weighted_chunk(items, weights):
    p = np.asarray(weights, dtype=float)
    p /= p.sum()
    arr = np.array(items, dtype=object)
    return lambda rng, n: list(arr[rng.choice(len(arr), size=n, p=p)])


def zipf(n, s):
    return [1.0 / (r ** s) for r in range(1, n + 1)]


def surname_chunk():
    """Head (common names), migrant-origin names and a combinatorial tail of rare names."""
    head, hw = pairs(SURNAME_HEAD)
    mid = words(SURNAME_MID)
    head += mid
    hw += list(np.linspace(38, 12, len(mid)))
    mig, mw = pairs(SURNAME_MIGRANT)
    head += mig
    hw += [w * 1.2 for w in mw]
    head_share = sum(hw) / 100000.0          # ~17 % of people carry one of these names
    pick_head = weighted_chunk(head, hw)
    stems, sufs = words(TAIL_STEMS), words(TAIL_SUFFIXES)
    p_stem = np.array(zipf(len(stems), .3)); p_stem /= p_stem.sum()
    p_suf = np.array(zipf(len(sufs), .4)); p_suf /= p_suf.sum()
    sl_st, pa_st = words(SLAVIC_STEMS), words(PATRONYM_STEMS)

    def join(a: str, b: str) -> str:
        if b and a[-1] == b[0]:              # "Stein"+"ner" -> "Steiner"
            b = b[1:]
        return a + b

    def variant(name: str, u: float) -> str:
        """Old spellings survive as separate family names: Meyer/Maier, Keßler/Kessler."""
        hits = [(a, b) for a, b in SPELLING_VARIANTS if a.search(name, 1)]
        if not hits:
            return name
        a, b = hits[int(u * len(hits))]
        return name[0] + a.sub(b, name[1:], count=1)

    def make(rng, n):
        out = pick_head(rng, n)
        kind = rng.random(n)
        st = rng.choice(len(stems), size=n, p=p_stem)
        st2 = rng.choice(len(stems), size=n, p=p_stem)
        sf = rng.choice(len(sufs), size=n, p=p_suf)
        lk = rng.random(n)
        other = rng.integers(0, 1000, size=n)
        var = rng.random(n)
        tail_cut = 1 - head_share
        for i in range(n):
            k = kind[i] / tail_cut            # in [0,1) for tail draws
            if kind[i] >= tail_cut:
                continue
            a, b = stems[st[i]], sufs[sf[i]]
            if k < .84:                       # Stein+berg, Linden+berg, Harts+bach
                if b in PLACE_SUFFIXES and lk[i] < .4:
                    a += "en" if a in EN_STEMS else "s" if a in S_STEMS else ""
                out[i] = join(a, b)
            elif k < .90:                     # two stems + suffix: Waldbrandmeier
                out[i] = join(a + stems[st2[i]].lower(), b if len(a) + len(b) < 10 else "")
            elif k < .95:
                out[i] = sl_st[other[i] % len(sl_st)] + SLAVIC_SUFFIXES[other[i] % 9]
            elif k < .99:
                out[i] = pa_st[other[i] % len(pa_st)] + PATRONYM_SUFFIXES[other[i] % 8]
            else:                             # nobility-style particle names
                part = ("von " if other[i] % 3 else "von der ")
                out[i] = part + join(stems[st[i]], sufs[sf[i]] if other[i] % 2 else "en")
            if var[i] < .3:
                out[i] = variant(out[i], var[i] / .3)
        return out
    return make


def first_name_bags(rng):
    """One bag per (gender, cohort): ranked cohort names, rare German and international names."""
    bags = {}
    for (g, c), text in FIRST.items():
        names, rare, intl = words(text), words(RARE_FIRST[g]), words(INTL_FIRST[g])
        z = zipf(len(names), .55)
        intl_share = [.03, .05, .08, .12, .14][c]   # younger cohorts are more international
        weights = ([w * .84 / sum(z) for w in z] + [(.16 - intl_share) / len(rare)] * len(rare)
                   + [intl_share / len(intl)] * len(intl))
        bags[(g, c)] = Bag(rng, weighted_chunk(names + rare + intl, weights))
    return bags


def cohort(year: int) -> int:
    return 0 if year < 1955 else 1 if year < 1970 else 2 if year < 1985 else 3 if year < 2000 else 4


# ----------------------------------------------------------------------------------------
# Geography: cities with PLZ, area code and streets; every street sits in one PLZ, so
# street, postcode and city in a person's true address agree with each other.
# ----------------------------------------------------------------------------------------
class City:
    __slots__ = ("name", "country", "cc", "area", "streets", "street_plz", "variants", "stores")

    def __init__(self, name, country, area, variants):
        self.name, self.country, self.area = name, country, area
        self.cc = {"DE": "49", "AT": "43", "CH": "41"}[country]
        self.variants = [v for v in variants.split(",") if v]
        self.streets, self.street_plz, self.stores = [], [], []


def street_pool() -> list[str]:
    pool = [s.replace("_", " ") for s in words(STREET_POOL)]
    pool += [st + kind for st in STREET_STEMS for kind in STREET_KINDS]
    return list(dict.fromkeys(pool))  # de-duplicated, order kept (deterministic)


def fill_streets(d: Dice, city: City, plz_lo: int, plz_hi: int, pop_k: int, width: int, pool):
    n_plz = min(plz_hi - plz_lo + 1, max(1, pop_k // 15))
    plzs = sorted(set([plz_lo] + d.sample(range(plz_lo, plz_hi + 1), n_plz - 1 if n_plz > 1 else 0)))
    n_streets = min(len(pool) - 10, 12 + pop_k // 3)
    streets = d.sample(pool, n_streets)
    if pop_k > 400:  # big cities have the same street name in several districts
        streets += d.sample(streets, n_streets // 30)
    city.streets = streets
    city.street_plz = [str(d.pick(plzs)).zfill(width) for _ in streets]


def build_geo(d: Dice):
    """Returns (German places, their weights, foreign places, their weights, stores)."""
    pool = street_pool()
    places, weights, region_cities = [], [], {}
    for line in CITIES_DE.splitlines():
        name, lo, hi, area, pop, var = line.split("|")
        c = City(name, "DE", area, var)
        fill_streets(d, c, int(lo), int(hi), int(pop), 5, pool)
        places.append(c); weights.append(float(pop))
        region_cities.setdefault(lo[:1], []).append(c)
        if int(pop) >= 60:
            districts = [v.split("-", 1)[1] for v in c.variants if v.startswith(name + "-")]
            c.stores = [f"{name.split(' (')[0]}-{x}" for x in districts] or [name.split(" (")[0]]
            if int(pop) > 500:
                c.stores += [f"{name.split(' (')[0]} {x}" for x in ("Zentrum", "Hbf", "Einkaufspark")]
    # Villages and small towns carry about a third of the population; their names are
    # built from parts, so two villages of the same name in different regions happen.
    used_plz = {p for c in places for p in c.street_plz}
    city_total = sum(weights)
    n_vill = 1500
    stems = words(TAIL_STEMS)
    for i in range(n_vill):
        anchor = d.pick(places[:60])
        pre, stem = d.pick(VILLAGE_PREFIX), d.pick(stems)
        name = pre + (stem.lower() if pre and not pre.endswith(" ") else stem) + d.pick(VILLAGE_SUFFIX)
        while True:
            plz = anchor.street_plz[0][:2] + str(d.randrange(1000)).zfill(3)
            if plz not in used_plz:
                used_plz.add(plz)
                break
        while True:  # a code of the anchor's region that no city code is a prefix of
            area = anchor.area[:2] + str(d.randrange(100, 1000))
            if not any(area.startswith(x.area) for x in places[:len(places) - i]):
                break
        c = City(name, "DE", area, "")
        pop = d.randrange(2, 14)
        c.streets = d.sample(pool[:140], min(10 + pop * 2, 60))
        c.street_plz = [plz] * len(c.streets)
        c.stores = [s for s in anchor.stores] or [anchor.name]
        places.append(c); weights.append(float(pop))
    vill_total = sum(weights) - city_total
    weights = [w if i < len(weights) - n_vill else w * (.5 * city_total / vill_total)
               for i, w in enumerate(weights)]
    foreign, fweights = [], []
    for line in CITIES_FOREIGN.splitlines():
        cc, name, lo, hi, area, pop, var = line.split("|")
        c = City(name, cc, area, var)
        fill_streets(d, c, int(lo), int(hi), int(pop), 4, pool)
        foreign.append(c); fweights.append(float(pop))
    stores = [s for c in places[:len(places) - n_vill] for s in c.stores]
    for c in places:  # villages without a store nearby shop in the region's big city
        if not c.stores:
            near = [x for x in region_cities.get(c.street_plz[0][:1], []) if x.stores]
            c.stores = near[0].stores if near else [stores[0]]
    return places, cumulative(weights), foreign, cumulative(fweights), stores


# ----------------------------------------------------------------------------------------
# Persons and households
# ----------------------------------------------------------------------------------------
class Person:
    __slots__ = ("pid", "gender", "first", "middle", "surname", "birth_surname", "married_on",
                 "title", "born", "home", "old_home", "moved_on", "mobile", "landline",
                 "old_landline", "emails", "family_email", "mates")


# birth-year weights for adult customers: few very old, a baby-boomer bulge, then flat
YEARS = list(range(1934, 2009))
YEAR_CUM = cumulative([.35 + .05 * (y - 1934) if y < 1946 else 1.2 + .3 * (y <= 1969 and y >= 1958)
                       if y < 1971 else 1.0 if y < 1991 else .85 for y in YEARS])
HH_TYPES = ["single", "couple", "family", "single_parent", "flatshare"]
HH_CUM = cumulative([37, 31, 17, 6, 5])
MARRIED_NAME = ["takes", "keeps", "double", "husband_takes", "husband_double"]
MARRIED_CUM = cumulative([74, 13, 9, 3, 1])


class PersonFactory:
    def __init__(self, d: Dice, rng: np.random.Generator, geo):
        self.d, self.rng = d, rng
        self.places, self.pcum, self.foreign, self.fcum, self.stores = geo
        self.surnames = Bag(rng, surname_chunk())
        self.firsts = first_name_bags(rng)
        self.phones_used: dict[str, int] = {}
        self.emails_used: dict[str, int] = {}
        dom = {k: pairs(v) for k, v in EMAIL_DOMAINS.items()}
        self.domains = {k: (n, cumulative(w)) for k, (n, w) in dom.items()}
        self.persons: list[Person] = []

    # -- names and dates --------------------------------------------------------------
    def year(self, lo=1934, hi=2008) -> int:
        while True:
            y = self.d.wpick(YEARS, YEAR_CUM)
            if lo <= y <= hi:
                return y

    def first_name(self, gender: str, year: int, avoid=()) -> str:
        g = gender if gender != "d" else self.d.pick("mf")
        for _ in range(4):
            name = self.firsts[(g, cohort(year))].next()
            if name not in avoid:
                return name
        return name

    def person(self, gender: str, year: int, surname: str, avoid=()) -> Person:
        d = self.d
        p = Person()
        p.pid = f"P{len(self.persons) + 1:07d}"
        p.gender = "d" if d.p(.002) else gender
        p.born = date(year, 1, 1) + timedelta(days=d.randrange(365))
        p.first = self.first_name(gender, year, avoid)
        p.middle = None
        if d.p(.18 if year < 1970 else .10):
            mid = self.first_name(gender, year, avoid=(p.first,))
            p.middle = mid if "-" not in mid and mid not in p.first else None
        p.surname = p.birth_surname = surname
        p.married_on = None
        age = 2026 - year
        u = d.random()
        p.title = ("Prof. Dr." if u < .002 else "Dr." if u < .022 else
                   "Dipl.-Ing." if u < .025 and gender == "m" else None) if age >= 30 else None
        p.emails, p.family_email, p.mates = [], None, []
        p.mobile = p.landline = p.old_landline = None
        self.persons.append(p)
        return p

    def marry(self, a: Person, b: Person):
        """a = husband (or first partner), b = wife; German naming law in rough proportions."""
        d = self.d
        rule = d.wpick(MARRIED_NAME, MARRIED_CUM)
        start = date(max(a.born.year, b.born.year) + 20, 1, 1)
        end = min(start + timedelta(days=365 * 25), EXPORT_DAY - timedelta(days=20))
        if start >= end:
            start = end - timedelta(days=300)
        wed = d.day(start, end)
        if rule == "takes":
            b.surname = a.surname
        elif rule == "double":
            b.surname = (f"{a.surname}-{b.birth_surname}" if d.p(.5) else f"{b.birth_surname}-{a.surname}")
        elif rule == "husband_takes":
            a.surname = b.surname
        elif rule == "husband_double":
            a.surname = f"{b.surname}-{a.birth_surname}"
        if " " in b.surname or " " in a.surname:  # keep 'von' names simple
            b.surname, a.surname = b.birth_surname, a.birth_surname
        for x in (a, b):
            if x.surname != x.birth_surname:
                x.married_on = wed
        return a.surname if rule != "keeps" else a.birth_surname  # the children's name

    # -- households -----------------------------------------------------------------------
    def household(self):
        d = self.d
        kind = d.wpick(HH_TYPES, HH_CUM)
        members: list[Person] = []
        if kind == "single":
            g = d.pick("mf")
            p = self.person(g, self.year(), self.surnames.next())
            if g == "f" and p.born.year < 1992 and d.p(.35):  # divorced or widowed: married name
                p.birth_surname = self.surnames.next()
                p.married_on = d.day(date(p.born.year + 20, 1, 1), date(min(p.born.year + 40, 2024), 1, 1))
            members = [p]
        elif kind in ("couple", "family"):
            y1 = self.year(1934, 2002) if kind == "couple" else self.year(1955, 1983)
            y2 = min(2006, max(1934, y1 + int(round(d.gauss(-2, 4)))))
            g1, g2 = ("m", "f") if d.p(.95) else (("m", "m") if d.p(.5) else ("f", "f"))
            a = self.person(g1, y1, self.surnames.next())
            b = self.person(g2, y2, self.surnames.next(), avoid=(a.first,))
            members = [a, b]
            kids_name = a.surname
            if d.p(.85 if kind == "family" else .72):
                kids_name = self.marry(a, b)
            if kind == "family":
                members += self.children(a, b, kids_name)
        elif kind == "single_parent":
            g = "f" if d.p(.8) else "m"
            a = self.person(g, self.year(1950, 1983), self.surnames.next())
            if g == "f" and d.p(.5):
                a.birth_surname = self.surnames.next()
                a.married_on = date(a.born.year + d.randrange(20, 35), 6, 1)
            kids = a.surname if d.p(.75) else self.surnames.next()
            members = [a] + self.children(a if g == "m" else None, a, kids)
        else:  # flat share: unrelated young adults at one address
            for _ in range(d.choice((2, 2, 3))):
                members.append(self.person(d.pick("mf"), self.year(1988, 2006), self.surnames.next()))
        self.settle(members, kind)

    def children(self, father, mother, surname):
        d = self.d
        m_year = (mother or father).born.year
        kids, first_born = [], None
        for i in range(d.choice((1, 1, 1, 2, 2, 3))):
            y = m_year + d.randrange(23, 41)
            if y > 2008:
                break
            g = d.pick("mf")
            kid = self.person(g, y, surname, avoid=[k.first for k in kids])
            taken = [k.first for k in kids]
            if father and g == "m" and father.gender == "m" and father.first not in taken and d.p(.04):
                kid.first, kid.middle = father.first, None  # Junior: same name, same address
            elif mother and g == "f" and mother.first not in taken and d.p(.01):
                kid.first = mother.first
            if i == 1 and first_born and d.p(.04):  # twins
                kid.born = first_born.born
            first_born = first_born or kid
            kids.append(kid)
        return kids

    def address(self, foreign: bool, near=None):
        d = self.d
        if near is not None and d.p(.55):
            city = near
        elif foreign:
            city = d.wpick(self.foreign, self.fcum)
        else:
            city = d.wpick(self.places, self.pcum)
        hno = min(250, max(1, int(math.exp(d.gauss(2.6, .9)))))
        u = d.random()
        suffix = "" if u > .075 else d.pick("aaaabbc") if u > .005 else f"-{hno + 2}"
        return city, d.randrange(len(city.streets)), f"{hno}{suffix}"

    def phone(self, cc: str, area: str | None) -> tuple[str, str, str]:
        d = self.d
        while True:
            if area is None:  # mobile
                pre = d.pick(MOBILE_PREFIX[cc].split())
                n = 8 if pre in ("151", "160", "170", "171", "175") and cc == "49" else 7
            else:
                pre = area[1:]
                n = {1: 7, 2: 8, 3: 7, 4: 6, 5: 5}.get(len(pre), 6) - (d.p(.4) if len(pre) > 2 else 0)
            num = str(d.randrange(2, 10)) + "".join(str(d.randrange(10)) for _ in range(n - 1))
            key = cc + pre + num
            if key not in self.phones_used:
                self.phones_used[key] = 1
                return cc, pre, num

    def settle(self, members: list[Person], kind: str):
        d = self.d
        foreign = d.p(.025)
        home = self.address(foreign)
        moved = d.p(.15)
        old_home = self.address(foreign, near=home[0]) if moved else None
        moved_on = d.day(date(2012, 1, 1), date(2026, 11, 1)) if moved else None
        oldest = min(p.born.year for p in members)
        has_land = d.p({"single": .30, "flatshare": .10}.get(kind, .55) + (.3 if oldest < 1955 else 0))
        cc = home[0].cc
        land = self.phone(cc, home[0].area) if has_land else None
        old_land = None
        if land and moved:
            old_land = land if old_home[0] is home[0] and d.p(.7) else self.phone(cc, old_home[0].area)
        for p in members:
            p.home, p.old_home, p.moved_on = home, old_home, moved_on
            p.landline, p.old_landline = land, old_land
            p.mates = [m for m in members if m is not p]
            if d.p(.92 if p.born.year > 1960 else .70):
                p.mobile = self.phone(cc, None)
        if len(members) > 1 and kind != "flatshare" and d.p(.22):
            fam = self.family_email(members, home)
            for p in members:
                p.family_email = fam if d.p(.75 if p.born.year < 1995 else .25) else None
        for p in members:
            self.personal_emails(p)

    # -- e-mail -------------------------------------------------------------------------
    def claim(self, local: str, domain: str, p: Person) -> str:
        addr = f"{local}@{domain}"
        while addr in self.emails_used:  # a taken mailbox: the provider offers a number
            local2 = local + (str(p.born.year % 100).zfill(2) if self.d.p(.4) else str(self.d.randrange(1, 999)))
            addr = f"{local2}@{domain}"
            local = local2 if self.d.p(.3) else local
        self.emails_used[addr] = 1
        return addr

    def domain(self, country: str) -> str:
        return self.d.wpick(*self.domains[country])

    def family_email(self, members, home):
        d = self.d
        last = mail_part(members[0].surname)
        f1, f2 = mail_part(members[0].first), mail_part(members[1].first)
        local = d.pick([f"familie.{last}", f"fam.{last}", f"{last}s", f"{f1}.und.{f2}",
                        f"{f1}{f2}{last}", f"{last}-{mail_part(home[0].name.split(' ')[0])}"])
        return self.claim(local, self.domain(home[0].country), members[0])

    def personal_emails(self, p: Person):
        d = self.d
        if not d.p(.95 if p.born.year > 1975 else .88 if p.born.year > 1955 else .62):
            return
        n = 1 + d.p(.30) + d.p(.08)
        for i in range(n):
            # a woman married in the e-mail era often keeps the address with her maiden name
            maiden = p.married_on and p.married_on.year > 2004 and i == 0 and d.p(.55)
            p.emails.append(self.new_email(p, p.birth_surname if maiden else p.surname))

    def new_email(self, p: Person, surname: str) -> str:
        d = self.d
        f = mail_part(d.pick(NICKNAMES.get(p.first, [p.first])) if d.p(.08) else p.first)
        if "-" in f and d.p(.6):
            f = f.split("-")[0] if d.p(.6) else f.replace("-", "")
        last = mail_part(surname)
        if "-" in last and d.p(.5):
            last = last.replace("-", "") if d.p(.5) else last.split("-")[0]
        yy = str(p.born.year % 100).zfill(2)
        fun = ["sonnenschein", "mausi", "kater", "blauerhimmel", "fussballfan", "gartenzwerg",
               "biker", "schnecke", "tiger", "hexe", "adler", "bergfex", "nordlicht", "kuschelbaer"]
        local = d.pick([f"{f}.{last}"] * 6 + [f"{f}{last}"] * 2 + [f"{f[0]}.{last}"] * 2 +
                       [f"{last}.{f}", f"{f}_{last}", f"{f}.{last}{yy}", f"{f}{last}{yy}", f"{f[0]}{last}",
                        f"{last}{yy}", f"{f}{d.randrange(1, 999)}", f"{d.pick(fun)}{yy}",
                        f"{d.pick(fun)}.{f}"])
        return self.claim(local, self.domain(p.home[0].country), p)


MAIL_TR = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e", "ç": "c",
                         "ó": "o", "á": "a", "í": "i", "ñ": "n", " ": "", ".": "", "'": ""})


def mail_part(s: str) -> str:
    return s.lower().translate(MAIL_TR)


def build_persons(n: int, seed: int) -> tuple[list[Person], PersonFactory]:
    d = Dice(seed)
    rng = np.random.default_rng(seed)
    geo = build_geo(d)
    f = PersonFactory(d, rng, geo)
    while len(f.persons) < n:
        f.household()
    del f.persons[n:]  # the last household may be cut short; its members keep their data
    keep = set(id(p) for p in f.persons)
    for p in f.persons:
        p.mates = [m for m in p.mates if id(m) in keep]
    return f.persons, f


# ----------------------------------------------------------------------------------------
# Noise
# ----------------------------------------------------------------------------------------
_ROWS = ["1234567890ß", "qwertzuiopü", "asdfghjklöä", "yxcvbnm"]
NEIGHBOURS: dict[str, str] = {}
for _r, _row in enumerate(_ROWS):  # QWERTZ: same row left/right plus the keys above/below
    for _c, _ch in enumerate(_row):
        near = _row[max(0, _c - 1):_c] + _row[_c + 1:_c + 2]
        for _rr in (_r - 1, _r + 1):
            if 0 < _rr < len(_ROWS):
                near += _ROWS[_rr][_c:_c + 1]
        NEIGHBOURS[_ch] = "".join(x for x in near if x.isalpha())  # no digits inside names
TR_UE = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss",
                       "é": "e", "ç": "c", "Ç": "C", "ó": "o", "í": "i", "á": "a"})
TR_PLAIN = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "Ä": "A", "Ö": "O", "Ü": "U", "ß": "ss",
                          "é": "e", "ç": "c", "Ç": "C", "ó": "o", "í": "i", "á": "a"})
# spellings a hotline agent produces from what they hear, in both directions
PHONETIC = [("dt", "tt"), ("tt", "dt"), ("th", "t"), ("ph", "f"), ("ck", "k"), ("ei", "ai"),
            ("ai", "ei"), ("ey", "ei"), ("ay", "ei"), ("mm", "m"), ("nn", "n"), ("ll", "l"),
            ("ff", "f"), ("pp", "p"), ("tz", "z"), ("ie", "i"), ("C", "K"), ("K", "C"), ("y", "i"),
            ("ß", "s"), ("dt", "d"), ("Ch", "K"), ("v", "w"), ("x", "chs"), ("ä", "e"), ("eu", "äu")]


def typo(d: Dice, s: str) -> str:
    """One keyboard slip; the first letter is kept more often than not, as people do."""
    if len(s) < 3:
        return s
    i = d.randrange(1, len(s)) if d.p(.9) else 0
    c = s[i]
    low = c.lower()
    u = d.random()
    if u < .25 or low not in NEIGHBOURS:
        return s[:i] + s[i + 1:]                                    # deletion
    if u < .45 and i > 0:
        return s[:i - 1] + c + s[i - 1] + s[i + 1:]                 # swap with left
    n = d.pick(NEIGHBOURS[low])
    n = n.upper() if c.isupper() else n
    if u < .70:
        return s[:i] + n + s[i + 1:]                                # neighbour key
    if u < .85:
        return s[:i + 1] + n + s[i + 1:]                            # extra neighbour key
    return s[:i] + c + s[i:]                                        # doubled letter


def phonetic(d: Dice, s: str) -> str:
    hits = [(a, b) for a, b in PHONETIC if a in s]
    if not hits:
        return s
    a, b = d.pick(hits)
    return s.replace(a, b, 1)


def record_style(d: Dice, r: dict):
    """Umlaut handling is a habit of the system or the typist, so one choice per record."""
    u = d.random()
    return TR_UE if u < r["ue"] else TR_PLAIN if u < r["ue"] + r["plain"] else None


def scramble(d: Dice, s: str | None, r: dict, style) -> str | None:
    if not s:
        return s
    if style:
        s = s.translate(style)
    if d.p(r["phonetic"]):
        s = phonetic(d, s)
    if d.p(r["typo"]):
        s = typo(d, s)
        if d.p(.15):
            s = typo(d, s)  # two slips in one name
    u = d.random()
    if u < r["lower"]:
        s = s.lower()
    elif u < r["lower"] + r["upper"]:
        s = s.upper()
    if d.p(r["space"]):
        s = d.pick([" " + s, s + " ", s + "  ", s.replace(" ", "  ", 1), s.replace("-", " - ", 1)])
    return s


def given_first(d: Dice, p: Person, r: dict) -> str:
    name = p.first
    if name in NICKNAMES and d.p(r["nick"]):
        return d.pick(NICKNAMES[name])
    if "-" in name and d.p(r["partial"]):
        a, b = name.split("-", 1)
        u = d.random()
        name = a if u < .6 else b if u < .8 else f"{a} {b}" if u < .95 else a + b.lower()
    if p.middle and d.p(r["middle"]):
        name = f"{name} {p.middle}"
    return name


def given_last(d: Dice, p: Person, r: dict, as_of: date) -> str:
    name = p.birth_surname if p.married_on and as_of < p.married_on else p.surname
    if "-" in name and d.p(r["partial"]):
        a, b = name.split("-", 1)
        u = d.random()
        name = a if u < .4 else b if u < .7 else f"{b}-{a}" if u < .85 else f"{a} {b}"
    if name.startswith("von ") and d.p(.4):
        particle, rest = ("von der ", name[8:]) if name.startswith("von der ") else ("von ", name[4:])
        u = d.random()
        name = (rest if u < .4 else f"v. {rest}" if u < .6 else f"{rest}, {particle.strip()}"
                if u < .75 else particle.title() + rest)
    return name


def render_name(d: Dice, p: Person, r: dict, as_of: date, style) -> tuple[str, str]:
    first, last = given_first(d, p, r), given_last(d, p, r, as_of)
    if p.title and d.p(r["title"]):
        if d.p(.5):
            first = f"{p.title} {first}"
        else:
            last = f"{p.title} {last}"
    if d.p(r["swap"]):
        first, last = last, first
    return scramble(d, first, r, style), scramble(d, last, r, style)


def street_text(d: Dice, name: str, hno: str, r: dict, style) -> str:
    s = name
    if s.endswith(("straße", "Straße")):
        base, cap = s[:-6], s[-6] == "S"
        u = d.random()
        if u < .45:
            suf = s[-6:]
        elif u < .75:
            suf = "Str." if cap else "str."
        elif u < .90:
            suf = "Strasse" if cap else "strasse"
        elif u < .95:
            suf = "Str" if cap else "str"
        else:  # "Berlinerstr." / "Haupt-Str."
            base, suf = (base.rstrip(), "str.") if cap else (base, "-Str.")
        s = base + suf
    elif s.endswith("platz") and d.p(.1):
        s = s[:-5] + "pl."
    if "-" in s and d.p(.06):
        s = s.replace("-", " ")
    if style:
        s = s.translate(style)
    elif "ß" in s and d.p(.1):
        s = s.replace("ß", "ss")
    if d.p(r["street_typo"]):
        s = typo(d, s)
    if d.p(r["lower"] / 2):
        s = s.lower()
    elif d.p(r["upper"] / 2):
        s = s.upper()
    m = re.match(r"(\d+)([a-z]?)(?:-(\d+))?$", hno)
    num, letter, to = m.group(1), m.group(2), m.group(3)
    if letter:
        h = d.pick([f"{num}{letter}"] * 5 + [f"{num} {letter}"] * 3 + [f"{num}{letter.upper()}"] * 2 +
                   [f"{num} {letter.upper()}"])
    elif to:
        h = d.pick([f"{num}-{to}", f"{num}-{to}", f"{num} - {to}", f"{num}/{to}", num])
    else:
        h = num
    u = d.random()
    if u < .01:
        return s                              # house number forgotten
    return f"{s}{h}" if u < .03 else f"{s}, {h}" if u < .04 else f"{s} {h}"


def plz_text(d: Dice, plz: str, r: dict) -> str:
    if d.p(r["plz_typo"]):
        i = d.randrange(len(plz) - 1)
        if d.p(.5):
            plz = plz[:i] + plz[i + 1] + plz[i] + plz[i + 2:]
        else:
            plz = plz[:i + 1] + str(d.randrange(10)) + plz[i + 2:]
    return plz


def city_text(d: Dice, city: City, r: dict, style) -> str:
    s = d.pick(city.variants) if city.variants and d.p(.15) else city.name
    if style:
        s = s.translate(style)
    u = d.random()
    if u < r["lower"]:
        s = s.lower()
    elif u < r["lower"] + r["upper"] * 1.5:
        s = s.upper()
    if d.p(r["typo"] / 3):
        s = typo(d, s)
    return s


def group2(num: str) -> str:
    """'1234567' -> '123 45 67' (pairs from the right, as Germans write it)."""
    head = 3 if len(num) % 2 else 2
    return " ".join([num[:head]] + [num[i:i + 2] for i in range(head, len(num), 2)])


PHONE_FORMS = ["{n0} {num}", "{n0}/{num}", "{n0}-{num}", "{n0}{num}", "+{cc} {a} {num}",
               "+{cc}{a}{num}", "+{cc} ({zero}){a} {num}", "00{cc} {a} {num}", "00{cc}{a}{num}",
               "({n0}) {g}", "{n0} / {g}", "+{cc} {a} {g}", "{n0} {g}", "+{cc}-{a}-{num}"]
PHONE_CUM = {"shop": cumulative([24, 14, 5, 12, 12, 5, 4, 2, 2, 5, 4, 4, 6, 1]),
             "pos": cumulative([30, 30, 6, 20, 3, 1, 1, 1, 1, 2, 2, 0, 3, 0])}


def phone_text(d: Dice, ph, source: str) -> str:
    cc, a, num = ph
    form = d.wpick(PHONE_FORMS, PHONE_CUM[source])
    return form.format(n0="0" + a, num=num, cc=cc, a=a, zero="0", g=group2(num))


def caller_text(d: Dice, ph) -> str:
    """What the phone system shows: E.164 mostly, national with or without a space."""
    cc, a, num = ph
    u = d.random()
    return f"+{cc}{a}{num}" if u < .65 else f"0{a}{num}" if u < .93 else f"0{a} {num}"


DOMAIN_TYPOS = {"gmail.com": ["gmail.de", "gmial.com", "gmail.co"], "web.de": ["wep.de", "web.com"],
                "t-online.de": ["tonline.de", "t-onlin.de"], "gmx.de": ["gmx.net", "gmx.d"],
                "hotmail.de": ["hotmail.com", "hotmal.de"], "yahoo.de": ["yahoo.com", "yaho.de"]}


def email_text(d: Dice, e: str | None, typo_rate: float = .004) -> str | None:
    if not e:
        return e
    local, dom = e.split("@")
    if d.p(typo_rate):
        if dom in DOMAIN_TYPOS and d.p(.5):
            dom = d.pick(DOMAIN_TYPOS[dom])
        else:
            local = typo(d, local).lower()
    u = d.random()
    if u < .08:
        local = ".".join(x[:1].upper() + x[1:] for x in local.split("."))
    elif u < .095:
        local, dom = local.upper(), dom.upper()
    elif u < .11:
        dom = dom.upper() if d.p(.5) else dom.capitalize()
    out = f"{local}@{dom}"
    return out + " " if d.p(.008) else " " + out if d.p(.003) else out


# ----------------------------------------------------------------------------------------
# Source records
# ----------------------------------------------------------------------------------------
def iso_z(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def de_date(x: date) -> str:
    return x.strftime("%d.%m.%Y")


def de_amount(x: float) -> str:
    return f"{x:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")


def berlin_offset(t: datetime) -> int:
    """CET/CEST: summer time from the last Sunday of March to the last Sunday of October."""
    def last_sunday(month):
        x = date(t.year, month, 31)
        return x - timedelta(days=(x.weekday() + 1) % 7)
    start = datetime.combine(last_sunday(3), datetime.min.time()) + timedelta(hours=2)
    end = datetime.combine(last_sunday(10), datetime.min.time()) + timedelta(hours=3)
    return 2 if start <= t < end else 1


def state(p: Person, as_of: date):
    """Address and landline as the person had them on that day (movers keep the old one)."""
    if p.moved_on and as_of < p.moved_on:
        return p.old_home, p.old_landline
    return p.home, p.landline


def later_update(d: Dice, p: Person, as_of: date, prob: float) -> date:
    """A record made before a move or wedding is brought up to date only sometimes."""
    change = max(p.moved_on or date.min, p.married_on or date.min)
    if change > as_of and d.p(prob):
        return min(EXPORT_DAY - timedelta(days=1), change + timedelta(days=d.randrange(1, 90)))
    return as_of


class Sources:
    def __init__(self, persons: list[Person], factory: PersonFactory, seed: int):
        self.persons, self.f = persons, factory
        self.d = Dice(seed * 1_000_003 + 17)          # own stream: adding a source field
        self.rng = np.random.default_rng(seed + 99)    # does not reshuffle the persons
        self.used = {"shop": {}, "newsletter": {}}
        self.ids: dict[str, list[str]] = {}           # pid -> shop ids and card numbers
        self.out = {"shop": [], "newsletter": [], "hotline": [], "pos": []}

    # -- who is where -------------------------------------------------------------------
    def participation(self, p: Person) -> dict[str, int]:
        d = self.d
        young, old = p.born.year >= 1975, p.born.year < 1955
        abroad = p.home[0].country != "DE"
        shop = d.p(.52 * (1.15 if young else .6 if old else 1.0) * (1.3 if abroad else 1.0))
        pos = not abroad and d.p(.40 * (.85 if young else 1.25 if old else 1.0))
        nl = d.p(.42 if shop else .14)
        hl = d.p(.08 + .10 * shop + .04 * pos)
        if not (shop or pos or nl or hl):      # everybody is somebody's customer
            u = d.random()
            shop, pos, nl, hl = u < .45 or (abroad and u < .8), not abroad and .45 <= u < .8, u >= .8, False
        n_hl = 0
        if hl:
            n_hl = 1
            while n_hl < 9 and d.p(.38):
                n_hl += 1
        return {"shop": shop and 1 + d.p(.06) + d.p(.01), "pos": pos and 1 + d.p(.11) + d.p(.025),
                "newsletter": nl and 1 + d.p(.05), "hotline": n_hl}

    def pick_email(self, p: Person, as_of: date, source: str | None, primary: float) -> str | None:
        d = self.d
        cands = list(p.emails)
        if p.married_on and as_of < p.married_on and p.surname != p.birth_surname:
            cands = [e for e in cands if mail_part(p.surname) not in e] or cands
        if p.family_email and d.p(.12):
            cands.insert(0, p.family_email)
        elif cands and not d.p(primary):
            cands.insert(0, cands.pop(d.randrange(len(cands))))
        used = self.used.get(source)
        for e in cands:
            if used is None or e not in used:
                break
        else:
            if used is None:
                return None
            e = self.f.new_email(p, p.surname)  # a new mailbox just for this account
            while e in used:                    # (not one a typo of somebody already took)
                e = self.f.new_email(p, p.surname)
            p.emails.append(e)
        if used is not None:
            used[e] = 1
        return e

    # -- shop ---------------------------------------------------------------------------
    def shop(self, p: Person, k: int, after: datetime | None):
        d, r = self.d, RATES["shop"]
        lo = after + timedelta(days=20) if after else datetime(2013, 1, 1)
        hi = EXPORT_DT - timedelta(hours=8)
        lo = min(lo, hi - timedelta(days=2))
        created = lo + (hi - lo) * (d.random() ** .8)
        as_of = later_update(d, p, created.date(), .55)
        updated = max(created, datetime.combine(as_of, datetime.min.time()) + timedelta(hours=d.randrange(7, 23)))
        updated = min(hi, updated + (hi - updated) * (d.random() ** 3))
        style = record_style(d, r)
        first, last = render_name(d, p, r, as_of, style)
        home, land = state(p, as_of)
        city, si, hno = home
        phones = [x for x in (p.mobile, land) if x]
        phone = phone_text(d, phones[0] if len(phones) == 1 or d.p(.65) else phones[1], "shop") \
            if phones and d.p(.6 if k == 0 else .35) else None
        bday = None
        if d.p(.33):
            b = p.born if not d.p(.02) else date(p.born.year, 1, 1)  # "01.01." to get a voucher
            bday = b.isoformat()
        addr = None
        if d.p(.93 if k == 0 else .75):
            addr = {"street": street_text(d, city.streets[si], hno, r, style),
                    "zip": plz_text(d, city.street_plz[si], r) if d.p(.99) else None,
                    "city": city_text(d, city, r, style) if d.p(.99) else None,
                    "country": city.country if d.p(.99) else None}
        company = d.pick(COMPANY_FORMS).format(s=p.surname) if d.p(.035) else None
        marketing = d.p(.42)
        m_at = (created + (updated - created) * d.random()) if marketing or d.p(.35) else None
        orders = 0 if d.p(.2 if k == 0 else .5) else 1 + int(-math.log(1 - d.random()) * 4)
        spent = round(sum(math.exp(d.gauss(3.6, .6)) for _ in range(min(orders, 30))) *
                      max(1, orders / 30), 2)
        email = self.pick_email(p, as_of, "shop", .8 if k == 0 else .2)
        shown = email_text(d, email)
        if shown.strip().lower() != email:      # the shop refuses an address already in use
            shown = email if shown.strip().lower() in self.used["shop"] else shown
            self.used["shop"][shown.strip().lower()] = 1
        rec = {"customer_id": None, "email": shown if d.p(.995) else None,
               "first_name": first if d.p(.992) else None, "last_name": last if d.p(.995) else None,
               "company": company, "phone": phone, "birthday": bday, "address": addr,
               "accepts_marketing": marketing, "accepts_marketing_updated_at": m_at and iso_z(m_at),
               "created_at": iso_z(created), "updated_at": iso_z(updated),
               "orders_count": orders, "total_spent": spent}
        if d.p(.2):   # some API versions leave out empty fields instead of writing null
            rec = {key: v for key, v in rec.items() if v is not None or key == "customer_id"}
        self.out["shop"].append((created, p.pid, rec))
        return created

    # -- tills --------------------------------------------------------------------------
    def pos(self, p: Person, k: int):
        d, r = self.d, RATES["pos"]
        made = d.day(date(2009, 1, 1), EXPORT_DAY - timedelta(days=1))
        as_of = later_update(d, p, made, .35)
        style = record_style(d, r)
        first, last = render_name(d, p, r, as_of, style)
        (city, si, hno), land = state(p, as_of)
        sal = {"m": "Herr", "f": "Frau", "d": ""}[p.gender]
        if d.p(.004):
            sal = {"Herr": "Frau", "Frau": "Herr", "": ""}[sal]
        street = plz = ort = ""
        if d.p(.94 if k == 0 else .8):
            street = street_text(d, city.streets[si], hno, r, style)
            plz = plz_text(d, city.street_plz[si], r) if d.p(.98) else ""
            if plz.startswith("0") and d.p(.12):
                plz = plz[1:]       # the till's spreadsheet ate the leading zero
            ort = city_text(d, city, r, style) if d.p(.99) else ""
        phones = [x for x in (land, p.mobile) if x]
        tel = phone_text(d, d.pick(phones), "pos") if phones and d.p(.5) else ""
        mail = email_text(d, self.pick_email(p, as_of, None, .85), .01) if d.p(.33) else ""
        dob = ""
        if d.p(.45):
            b = p.born
            if b.day <= 12 and d.p(.01):
                b = date(b.year, b.day, b.month)
            dob = de_date(b)
            if d.p(.005):
                dob = dob[:-1] + str(d.randrange(10))
        store = d.pick(city.stores) if d.p(.92) else d.pick(self.f.stores)  # or on a trip
        last_buy = EXPORT_DAY - timedelta(days=int((d.random() ** 2) * (EXPORT_DAY - made).days))
        row = [None, sal if d.p(.88) else "", first or "", last or "", street, plz, ort, tel,
               mail or "", dob, store, de_amount(min(25000.0, math.exp(d.gauss(5.0, 1.2)))),
               de_date(last_buy), "J" if d.p(.45) else "N"]
        self.out["pos"].append((p.pid, row))

    # -- newsletter ---------------------------------------------------------------------
    def newsletter(self, p: Person, k: int):
        d, r = self.d, RATES["newsletter"]
        signup = d.moment(datetime(2015, 1, 1), EXPORT_DT - timedelta(hours=2))
        e = self.pick_email(p, signup.date(), "newsletter", .65 if k == 0 else .1)
        status = d.wpick(["subscribed", "unsubscribed", "bounced", "pending"], NL_STATUS_CUM)
        shown = email_text(d, e, .4 if status == "bounced" else .003)  # bounces are often typos
        key = shown.strip().lower()
        if key in self.used["newsletter"] and key != e:
            return
        self.used["newsletter"][key] = 1
        opt_in = None if status == "pending" else signup + timedelta(minutes=int(d.random() ** 3 * 4000) + 1)
        opt_out = None
        if status == "unsubscribed":
            opt_out = opt_in + (EXPORT_DT - opt_in) * d.random()
        sal = {"m": "Herr", "f": "Frau", "d": "Divers"}[p.gender] if d.p(.65) else ""
        style = record_style(d, r)
        first, last = render_name(d, p, r, signup.date(), style)
        u = d.random()
        first, last = (first, last) if u < .50 else (first, "") if u < .65 else ("", last) if u < .68 else ("", "")
        chosen = d.sample(INTERESTS, d.choice((0, 0, 1, 1, 2, 2, 3, 4)))
        row = [None, shown, sal, first, last, status, opt_in and iso_z(opt_in), opt_out and iso_z(opt_out),
               ";".join(chosen)]
        self.out["newsletter"].append((signup, p.pid, row))

    # -- hotline ------------------------------------------------------------------------
    def hotline(self, p: Person, n: int):
        d = self.d
        t = None
        for i in range(n):
            if t is not None and d.p(.6):        # follow-up call within a few weeks
                day = t.date() + timedelta(days=d.randrange(0, 30))
            else:
                day = d.day(date(2023, 1, 2), EXPORT_DAY - timedelta(days=1))
            if day.weekday() == 6 and d.p(.8):
                day += timedelta(days=1)
            day = min(day, EXPORT_DAY - timedelta(days=1))
            t = datetime.combine(day, datetime.min.time()) + timedelta(seconds=d.randrange(8 * 3600, 20 * 3600))
            self.out["hotline"].append((t, p.pid, self.ticket(p, t)))

    def ticket(self, p: Person, t: datetime) -> list:
        d, r = self.d, RATES["hotline"]
        as_of = t.date()
        home, land = state(p, as_of)
        u = d.random()
        phones = [x for x in (p.mobile, land) if x]
        if u < .14 or not phones:
            caller = "anonymous"
        elif u < .20:   # from work, a friend's phone, a new number
            caller = caller_text(d, self.f.phone(home[0].cc, None if d.p(.6) else home[0].area))
        else:
            caller = caller_text(d, phones[0] if len(phones) == 1 or d.p(.6) else phones[1])
        style = record_style(d, r)
        first, last = render_name(d, p, r, as_of, style)
        sal = {"m": "Herr", "f": "Frau", "d": ""}[p.gender]
        if p.title and d.p(.3):
            sal = f"{sal} {p.title}".strip()
        u = d.random()
        name = (f"{last}, {first}" if u < .28 else f"{first} {last}" if u < .52 else
                f"{sal} {last}".strip() if u < .72 else last if u < .78 else first if u < .80 else
                f"{last} {first}" if u < .89 else "")
        quoted = ""
        ids = self.ids.get(p.pid, [])
        if ids and d.p(.3):
            quoted = d.pick(ids)
            if d.p(.12):
                quoted = mistype_id(d, quoted)
        elif p.mates and d.p(.01):   # calls about the spouse's account
            quoted = d.pick(self.ids.get(d.pick(p.mates).pid, [""]))
        mail = email_text(d, self.pick_email(p, as_of, None, .8), .05) if d.p(.16) else ""
        topic = d.wpick(TOPICS, TOPIC_CUM)
        if p.moved_on and 0 <= (as_of - p.moved_on).days < 120 and d.p(.5):
            topic = "Adressänderung"
        elif any(x.startswith("K-") for x in ids) and d.p(.15):
            topic = "Kundenkarte"
        notes = self.note(p, topic, as_of, home, phones)
        return [None, t.strftime("%Y-%m-%dT%H:%M:%S") + f"+0{berlin_offset(t)}:00", caller, name,
                quoted, mail or "", topic, notes]

    def note(self, p, topic, as_of, home, phones) -> str:
        d = self.d
        city, si, hno = home
        addr = f"{street_text(d, city.streets[si], hno, RATES['hotline'], None)}, " \
               f"{city.street_plz[si]} {city.name}"
        text = d.pick(NOTES[topic]).format(
            n=f"{d.randrange(10**7, 10**8)}", d=de_date(as_of - timedelta(days=d.randrange(1, 40))),
            s=d.pick(["38", "40", "M", "L", "XL"]), s2=d.pick(["42", "44", "S", "XXL"]),
            c=f"XMAS{d.randrange(100, 999)}", addr=addr)
        if phones and d.p(.12):
            text += f"\nRückruf unter {phone_text(d, d.pick(phones), 'shop')}"
        if d.p(.05):
            text += f" Geb.-Datum {de_date(p.born)} zur Verifikation genannt."
        if d.p(.1):
            text += f" /{d.pick('ABCDEFGHKLMNPRST')}{d.pick('ABCDEFGHKLMNPRST')}"
        return text


NL_STATUS_CUM = cumulative([60, 22, 7, 11])
TOPIC_CUM = cumulative(TOPIC_W)


def mistype_id(d: Dice, s: str) -> str:
    """What callers read out or agents type: swapped or wrong digits, no prefix, spaces."""
    prefix, digits = s.split("-")
    u = d.random()
    i = d.randrange(len(digits) - 1)
    if u < .25:
        return f"{prefix}-{digits[:i]}{digits[i + 1]}{digits[i]}{digits[i + 2:]}"
    if u < .45:
        return f"{prefix}-{digits[:i]}{d.randrange(10)}{digits[i + 1:]}"
    if u < .60:
        return f"{prefix}-{digits[:i]}{digits[i + 1:]}"
    if u < .80:
        return digits
    if u < .90:
        return d.pick([prefix + digits, prefix.lower() + "-" + digits])
    return f"{prefix} {digits}" if d.p(.5) else f"{prefix}-{digits[:3]} {digits[3:]}"


# ----------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------
def assign_ids(rng: np.random.Generator, src: Sources):
    """Shop ids and newsletter/ticket numbers grow with time (with gaps for deleted rows);
    loyalty cards are pre-printed, so their numbers are random."""
    shop = sorted(src.out["shop"], key=lambda x: (x[0], x[1]))
    gaps = np.cumsum(1 + rng.geometric(.7, size=len(shop)) - 1)
    for (created, pid, rec), g in zip(shop, gaps):
        rec["customer_id"] = f"S-{100000 + int(g)}"
        src.ids.setdefault(pid, []).append(rec["customer_id"])
    src.out["shop"] = shop
    pos = src.out["pos"]
    space = 10 ** max(6, len(str(len(pos) * 3)))
    nums = rng.choice(space, size=len(pos), replace=False)
    for (pid, row), num in zip(pos, nums):
        row[0] = f"K-{7 * space + int(num)}"
        src.ids.setdefault(pid, []).append(row[0])
    src.out["pos"] = sorted(pos, key=lambda x: x[1][0])


def write_outputs(out: Path, src: Sources):
    land = out / "landing"
    for sub in ("shop", "newsletter", "hotline", "pos"):
        (land / sub).mkdir(parents=True, exist_ok=True)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    truth = []
    with open(land / "shop" / "customers_2026-11-20T0600.jsonl", "w", encoding="utf-8", newline="\n") as fh:
        for _, pid, rec in src.out["shop"]:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            truth.append(("shop", rec["customer_id"], pid))
    nl = sorted(src.out["newsletter"], key=lambda x: (x[0], x[1]))
    with open(land / "newsletter" / "subscribers_2026-11-20.csv", "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["subscriber_id", "email", "salutation", "first_name", "last_name", "status",
                    "opt_in_at", "opt_out_at", "interests"])
        for i, (_, pid, row) in enumerate(nl):
            row[0] = f"NL-{10001 + i}"
            w.writerow(["" if v is None else v for v in row])
            truth.append(("newsletter", row[0], pid))
    hl = sorted(src.out["hotline"], key=lambda x: (x[0], x[1]))
    with open(land / "hotline" / "calls_2026-11-20.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["ticket_id", "opened_at", "caller_number", "caller_name", "customer_number",
                    "email", "topic", "notes"])
        for i, (_, pid, row) in enumerate(hl):
            row[0] = f"T-{100001 + i}"
            w.writerow(row)
            truth.append(("hotline", row[0], pid))
    with open(land / "pos" / "kunden_2026-11-20.csv", "w", encoding="cp1252", errors="strict", newline="") as fh:
        w = csv.writer(fh, delimiter=";", lineterminator="\r\n")   # a Windows till exports CRLF
        w.writerow(["Kartennummer", "Anrede", "Vorname", "Nachname", "Strasse", "PLZ", "Ort", "Telefon",
                    "E-Mail", "Geburtsdatum", "Filiale", "Umsatz", "Letzter_Einkauf", "Werbung_erlaubt"])
        for pid, row in src.out["pos"]:
            w.writerow(row)
            truth.append(("pos", row[0], pid))
    with open(out / "truth" / "records.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["source", "source_record_id", "person_id"])
        w.writerows(truth)


def generate(out: Path, persons: int, seed: int) -> None:
    """Write one delivery day of all four exports plus the truth into ``out``."""
    out = Path(out)
    people, factory = build_persons(persons, seed)
    src = Sources(people, factory, seed)
    plans = [(p, src.participation(p)) for p in people]
    for p, plan in plans:
        after = None
        for k in range(plan["shop"]):
            after = src.shop(p, k, after)
        for k in range(plan["pos"]):
            src.pos(p, k)
    assign_ids(src.rng, src)     # the hotline quotes shop ids and card numbers
    for p, plan in plans:
        for k in range(plan["newsletter"]):
            src.newsletter(p, k)
        src.hotline(p, plan["hotline"])
    write_outputs(out, src)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args(argv)
    out = a.out or Path(__file__).resolve().parent / "out" / f"foreign_{a.persons}"
    t0 = time.perf_counter()
    generate(out, a.persons, a.seed)
    print(f"wrote {out} for {a.persons} persons in {time.perf_counter() - t0:.1f}s")


if __name__ == "__main__":
    main()
