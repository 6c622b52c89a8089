"""The national-scale dataset of the benchmarks, loaded into PostgreSQL with COPY.

    python -m benchmarks.generer              # build it (database ``sicoval_bench`` by default), then the summaries
    python -m benchmarks.generer --supprimer  # drop that database

What it holds, by default (``--conseillers``, ``--activites``, ``--seances`` change the sizes):

- every commune and EPCI of France, from the ``@etalab/decoupage-administratif`` npm package (``benchmarks/
  package.json``; INSEE's Code officiel géographique and the DGCL's EPCI, data under the Licence Ouverte, code under
  MIT): 34,969 current communes, 1,255 EPCI;
- 4,000 conseillers in about 2,600 structures (most employ one conseiller, a few départements and networks up to
  twelve), placed in communes drawn by population, each with its post, attachment, assignment, contract, login and
  one to three places in its commune and its EPCI's;
- 10 million activities over the 36 months before ``--fin``: weekdays, a productivity that varies from one
  conseiller to another (log-normal), 90 % individual and 10 % workshops (3 to 9 participants), places of activity,
  homes, remote and other places in the national proportions' order of magnitude, one to three thématiques (an aid
  with an administrative procedure names its domain), 1 % deleted; one accompaniment per participant (about 15
  million) with genre, age band, status and commune of residence; 200,000 beneficiaries followed by consent;
- 50,000 workshop sessions of the structures' workshops (the last two months to come) and their registrations,
  confirmed up to the seats and waiting-listed beyond.

The big tables are written with COPY by three connections at once, their secondary indexes and foreign keys dropped
during the load and rebuilt after it (as a restore does). History tables are not filled: the dataset is the state
of the facts, not the trail of how they were typed. Every run with the same seed writes the same rows.
"""

import argparse
import datetime
import json
import math
import os
import queue
import random
import sys
import threading
import time
from pathlib import Path

ICI = Path(__file__).resolve().parent
DECOUPAGE = ICI / "node_modules" / "@etalab" / "decoupage-administratif" / "data"
BASE_PAR_DEFAUT = "postgres://postgres@127.0.0.1:5432/sicoval_bench"
MOT_DE_PASSE = "banc-d-essai-2026"  # every generated account's password (loopback only)

THEMATIQUES_POIDS = {
    "prendre_en_main_du_materiel": 12,
    "navigation_sur_internet": 10,
    "email": 9,
    "aide_aux_demarches_administratives": 18,
    "bureautique": 5,
    "securite_numerique": 6,
    "gere_ses_contenus_numeriques": 6,
    "reseaux_sociaux": 4,
    "banque_et_achats_en_ligne": 5,
    "sante": 5,
    "insertion_professionnelle": 3,
    "diagnostic_numerique": 4,
    "maintenance_de_materiel": 3,
    "parentalite": 1,
    "scolarite_et_numerique": 1,
    "creer_avec_le_numerique": 1,
    "culture_numerique": 3,
    "intelligence_artificielle": 2,
    "entrepreneuriat": 1,
}
DOMAINES = {
    "social_sante": 8,
    "travail_formation": 6,
    "argent_impots": 7,
    "papiers_elections_citoyennete": 6,
    "logement": 4,
    "famille_scolarite": 3,
    "transports_mobilite": 2,
    "etrangers_europe": 2,
    "justice": 1,
    "loisirs_sports_culture": 1,
    "associations": 1,
}
DEMARCHES = ["Déclaration de revenus", "Demande de RSA", "Dossier MDPH", "Carte grise", "Compte Ameli", "Retraite"]
TITRES = ["Premiers pas sur ordinateur", "Protéger ses données", "Faire ses démarches en ligne", "Le smartphone"]
TYPES_LIEU = {"lieu_activite": 72, "a_distance": 14, "domicile": 7, "autre": 7}
DUREES_INDIVIDUEL = {15: 10, 30: 30, 45: 22, 60: 25, 90: 9, 120: 4}
DUREES_ATELIER = {60: 20, 90: 35, 120: 40, 180: 5}
GENRES = {"feminin": 52, "masculin": 38, "non_communique": 10}
AGES = {
    "moins_de_douze": 1,
    "douze_dix_huit": 3,
    "dix_huit_vingt_quatre": 6,
    "vingt_cinq_trente_neuf": 14,
    "quarante_cinquante_neuf": 22,
    "soixante_soixante_neuf": 22,
    "soixante_dix_plus": 22,
    "non_communique": 10,
}
STATUTS = {"retraite": 38, "en_emploi": 17, "sans_emploi": 22, "scolarise": 5, "non_communique": 18}
AUTONOMIE = {"entierement_accompagne": 45, "partiellement_autonome": 40, "autonome": 15}
MATERIEL = {"telephone": 40, "ordinateur": 45, "tablette": 8, "autre": 2, "aucun": 5}
REDIRECTIONS = ["administration", "aide_sociale", "operateur_ou_organisme_en_charge", "mediation_numerique"]
PRENOMS = ["Camille", "Louise", "Jade", "Léa", "Nathalie", "Sylvie", "Hugo", "Louis", "Karim", "Michel", "Anne"]
NOMS = ["Martin", "Bernard", "Dubois", "Garcia", "Roux", "Fournier", "Morel", "Girard", "Lopez", "Bonnet"]
TYPES_STRUCTURE = {"commune": 34, "association": 30, "ccas_cias": 10, "epci": 9, "mediatheque": 7, "departement": 4}
LIGNES_PAR_LOT = 20_000


# --- Small helpers ------------------------------------------------------------------------------------------------
class Tirage:
    """Weighted draws from a {value: weight} mapping, with precomputed cumulative weights."""

    def __init__(self, rng, poids):
        self.rng = rng
        self.valeurs = list(poids)
        total, cumul = 0, []
        for valeur in self.valeurs:
            total += poids[valeur]
            cumul.append(total)
        self.cumul = cumul

    def un(self):
        return self.rng.choices(self.valeurs, cum_weights=self.cumul)[0]

    def plusieurs(self, k):
        return self.rng.choices(self.valeurs, cum_weights=self.cumul, k=k)


def texte(value):
    """A value in COPY's text format."""
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value)


def dsn():
    return os.environ.get("BENCH_DATABASE_URL", BASE_PAR_DEFAUT)


def _nom_base(url):
    return url.rsplit("/", 1)[1].split("?", 1)[0]


def _base_maintenance(url):
    return url.rsplit("/", 1)[0] + "/postgres"


def url_django():
    """The address of the database Django is connected to, for the COPY connections."""
    from django.db import connection

    reglages = connection.settings_dict
    identite = reglages["USER"] + (f":{reglages['PASSWORD']}" if reglages["PASSWORD"] else "")
    hote = f"{reglages['HOST'] or '127.0.0.1'}:{reglages['PORT'] or 5432}"
    return f"postgres://{identite}@{hote}/{reglages['NAME']}"


def creer_base(url):
    import psycopg

    nom = _nom_base(url)
    with psycopg.connect(_base_maintenance(url), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [nom]).fetchone():
            return False
        conn.execute(f'CREATE DATABASE "{nom}"')
    return True


def supprimer_base(url):
    import psycopg

    nom = _nom_base(url)
    with psycopg.connect(_base_maintenance(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{nom}" WITH (FORCE)')
    print(f"Base « {nom} » supprimée.")


def _nombre(n):
    return f"{n:,}".replace(",", "\u202f")


def _journal(message, debut=None):
    suffixe = f" ({time.perf_counter() - debut:.1f} s)" if debut is not None else ""
    print(f"[{datetime.datetime.now():%H:%M:%S}] {message}{suffixe}", flush=True)


# --- Indexes dropped during the load ------------------------------------------------------------------------------
def _deposer_index(cursor, tables):
    """Drop the secondary indexes, unique and foreign-key constraints of ``tables``; returns the SQL that rebuilds
    them (constraints first, then the plain indexes)."""
    contraintes, index = [], []
    for table in tables:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('u', 'f')",
            [table],
        )
        for nom, definition in cursor.fetchall():
            contraintes.append((table, nom, definition))
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            [table],
        )
        index.extend(cursor.fetchall())
    for table, nom, _definition in contraintes:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{nom}"')
    for nom, _definition in index:
        cursor.execute(f"DROP INDEX {nom}")
    # Unique constraints before the foreign keys that may rely on them.
    contraintes.sort(key=lambda item: "FOREIGN KEY" in item[2])
    return [f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}' for t, n, d in contraintes] + [d for _n, d in index]


class Copieur(threading.Thread):
    """One connection writing one table with COPY, fed by a queue of text chunks."""

    def __init__(self, url, table, colonnes):
        super().__init__(daemon=True)
        self.url, self.table, self.colonnes = url, table, colonnes
        self.file = queue.Queue(maxsize=8)
        self.lignes = 0
        self.erreur = None

    def run(self):
        import psycopg

        fini = False
        try:
            sql = f"COPY {self.table} ({', '.join(self.colonnes)}) FROM STDIN"
            with psycopg.connect(self.url) as conn, conn.cursor() as cur, cur.copy(sql) as copy:
                while (bloc := self.file.get()) is not None:
                    copy.write(bloc)
                fini = True
        except Exception as error:  # reported by the main thread
            self.erreur = error
            while not fini and self.file.get() is not None:
                pass

    def envoyer(self, lignes):
        if self.erreur:
            raise self.erreur
        self.lignes += len(lignes)
        self.file.put("".join(lignes))

    def finir(self):
        self.file.put(None)
        self.join()
        if self.erreur:
            raise self.erreur


# --- Reference data -----------------------------------------------------------------------------------------------
def charger_decoupage(dossier=DECOUPAGE):
    from structures.models import Commune, Epci

    if not dossier.exists():
        sys.exit("Les fichiers du découpage administratif manquent : lancez « npm ci --prefix benchmarks ».")
    communes = [
        c for c in json.loads((dossier / "communes.json").read_text("utf-8")) if c["type"] == "commune-actuelle"
    ]
    epcis = json.loads((dossier / "epci.json").read_text("utf-8"))
    Epci.objects.bulk_create(
        [
            Epci(siren=e["code"], nom=e["nom"][:200], type=e["type"], population=e.get("populationTotale"))
            for e in epcis
        ],
        update_conflicts=True,
        unique_fields=["siren"],
        update_fields=["nom", "type", "population"],
    )
    epci_ids = dict(Epci.objects.values_list("siren", "pk"))
    epci_de = {m["code"]: epci_ids[e["code"]] for e in epcis for m in e["membres"]}
    Commune.objects.bulk_create(
        [
            Commune(
                code_insee=c["code"],
                nom=c["nom"][:200],
                siren=c.get("siren", ""),
                codes_postaux=c.get("codesPostaux", []),
                population=c.get("population"),
                departement=c["departement"],
                epci_id=epci_de.get(c["code"]),
            )
            for c in communes
        ],
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["code_insee"],
        update_fields=["nom", "siren", "codes_postaux", "population", "departement", "epci"],
    )
    return len(communes), len(epcis)


# --- Structures, conseillers, places ------------------------------------------------------------------------------
def charger_reseau(rng, nb_conseillers, debut):
    """Structures, places, accounts and the employment of every conseiller. Returns, per conseiller, what the
    activities need: (conseiller_id, structure_id, user_id, [(lieu_id, commune_id)], [nearby commune ids])."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from allauth.mfa.utils import is_mfa_enabled
    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from conseillers.models import Affectation, Conseiller, Contrat, Poste, Rattachement
    from structures.models import Commune, Lieu, Membership, Structure

    communes = list(Commune.objects.exclude(population=None).values_list("pk", "population", "epci_id", "code_insee"))
    poids = [max(p, 1) ** 0.75 for _pk, p, _e, _c in communes]
    par_epci = {}
    for pk, _pop, epci, _code in communes:
        par_epci.setdefault(epci, []).append(pk)
    codes = {pk: code for pk, _pop, _e, code in communes}
    epci_de = {pk: epci for pk, _pop, epci, _code in communes}

    tailles = []
    reste = nb_conseillers
    while reste > 0:
        taille = min(reste, rng.choices([1, 2, 3, 4, 6, 12], weights=[62, 22, 8, 4, 3, 1])[0])
        tailles.append(taille)
        reste -= taille
    sieges = rng.choices([c[0] for c in communes], weights=poids, k=len(tailles))
    type_structure = Tirage(rng, TYPES_STRUCTURE)
    structures = []
    for numero, commune_id in enumerate(sieges, start=1):
        genre = type_structure.un()
        structures.append(
            Structure(
                nom=f"{genre.replace('_', ' ').capitalize()} numérique {numero:05d}",
                siret=f"{21000000000000 + numero:014d}",
                type_juridique=genre,
                secteur="prive" if genre == "association" else "public",
                phase=rng.choice([1, 2]),
                commune_id=commune_id,
                adresse=f"{numero} place de la Mairie",
                code_postal="31000",
                contact_nom="Accueil",
                contact_email=f"structure{numero}@bench.example",
            )
        )
    Structure.objects.bulk_create(structures, batch_size=2000)

    lieux = []
    for structure in structures:
        voisines = par_epci.get(epci_de[structure.commune_id]) or [structure.commune_id]
        for rang in range(rng.choices([1, 2, 3], weights=[55, 30, 15])[0]):
            commune_id = structure.commune_id if rang == 0 else rng.choice(voisines)
            lieux.append(
                Lieu(
                    structure=structure,
                    nom=f"Espace numérique {structure.pk}-{rang + 1}",
                    commune_id=commune_id,
                    code_postal="31000",
                    adresse=f"{rang + 1} rue de la République",
                    services=["aide-aux-demarches-administratives", "prise-en-main-d-un-ordinateur"],
                )
            )
    Lieu.objects.bulk_create(lieux, batch_size=2000)
    lieux_de = {}
    for lieu in lieux:
        lieux_de.setdefault(lieu.structure_id, []).append((lieu.pk, lieu.commune_id))

    mot_de_passe = make_password(MOT_DE_PASSE)  # hashed once: every account shares it
    users, conseillers, employeurs = [], [], []
    numero = 0
    for structure, taille in zip(structures, tailles, strict=True):
        for _ in range(taille):
            numero += 1
            prenom, nom = rng.choice(PRENOMS), f"{rng.choice(NOMS)}-{numero:04d}"
            email = f"conseiller{numero:04d}@bench.example"
            users.append(User(email=email, password=mot_de_passe, first_name=prenom, last_name=nom))
            conseillers.append(Conseiller(prenom=prenom, nom=nom, email=email))
            employeurs.append(structure)
    User.objects.bulk_create(users, batch_size=2000)
    for conseiller, user in zip(conseillers, users, strict=True):
        conseiller.user_id = user.pk
    Conseiller.objects.bulk_create(conseillers, batch_size=2000)
    Membership.objects.bulk_create(
        [Membership(user=u, structure=s, role="conseiller") for u, s in zip(users, employeurs, strict=True)],
        batch_size=2000,
    )
    postes = [
        Poste(typologie="conum", structure=s, etat="occupe", phase=s.phase, date_attribution=debut) for s in employeurs
    ]
    Poste.objects.bulk_create(postes, batch_size=2000)
    Rattachement.objects.bulk_create(
        [Rattachement(poste=p, structure=p.structure, date_debut=debut) for p in postes], batch_size=2000
    )
    Affectation.objects.bulk_create(
        [Affectation(poste=p, conseiller=c, date_debut=debut) for p, c in zip(postes, conseillers, strict=True)],
        batch_size=2000,
    )
    Contrat.objects.bulk_create(
        [
            Contrat(
                conseiller=c,
                poste=p,
                type="CDI",
                date_debut=debut,
                salaire_brut_mensuel=2100,
                cout_employeur_mensuel=3000,
            )
            for p, c in zip(postes, conseillers, strict=True)
        ],
        batch_size=2000,
    )
    staff = User.objects.filter(email="pilotage@bench.example").first() or User.objects.create_superuser(
        email="pilotage@bench.example", password=MOT_DE_PASSE, first_name="Équipe", last_name="Pilotage"
    )
    if not is_mfa_enabled(staff):  # staff reach the dashboards with their TOTP set up
        TOTP.activate(staff, generate_totp_secret())
    profils = []
    for conseiller, user, structure in zip(conseillers, users, employeurs, strict=True):
        voisines = par_epci.get(epci_de[structure.commune_id]) or [structure.commune_id]
        profils.append((conseiller.pk, structure.pk, user.pk, lieux_de[structure.pk], voisines))
    return profils, structures, staff, codes


# --- Activities ---------------------------------------------------------------------------------------------------
COLONNES_ACTIVITE = [
    "id",
    "conseiller_id",
    "structure_id",
    "type",
    "date",
    "duree",
    "type_lieu",
    "lieu_id",
    "commune_id",
    "thematiques",
    "nom_demarche",
    "materiel",
    "autonomie",
    "oriente",
    "structure_redirection",
    "titre_atelier",
    "niveau",
    "participants",
    "participants_anonymes",
    "notes",
    "source",
    "id_externe",
    "empreinte_externe",
    "supprimee_le",
    "created_at",
    "updated_at",
]
COLONNES_ACCOMPAGNEMENT = [
    "activite_id",
    "rang",
    "beneficiaire_id",
    "premier_accompagnement",
    "genre",
    "tranche_age",
    "statut_social",
    "commune_residence_id",
]


def _jours_ouvres(debut, fin):
    jours, jour = [], debut
    while jour <= fin:
        if jour.weekday() < 5 or (jour.weekday() == 5 and jour.day % 2):
            jours.append(jour)
        jour += datetime.timedelta(days=1)
    return jours


def charger_beneficiaires(url, rng, profils, par_conseiller=50):
    """Beneficiaries followed by consent: ``par_conseiller`` each. Returns {conseiller_id: [ids]}."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM accompagnements_beneficiaire")
        prochain = cursor.fetchone()[0] + 1
        cursor.execute("ALTER TABLE accompagnements_beneficiaire ALTER COLUMN uuid SET DEFAULT gen_random_uuid()")
    copieur = Copieur(
        url,
        "accompagnements_beneficiaire",
        [
            "id",
            "conseiller_id",
            "prenom",
            "nom",
            "telephone",
            "email",
            "genre",
            "tranche_age",
            "statut_social",
            "consentement_le",
            "created_at",
            "updated_at",
        ],
    )
    copieur.start()
    genres, ages, statuts = Tirage(rng, GENRES), Tirage(rng, AGES), Tirage(rng, STATUTS)
    ids, lignes = {}, []
    for conseiller_id, *_rest in profils:
        ids[conseiller_id] = list(range(prochain, prochain + par_conseiller))
        for pk in ids[conseiller_id]:
            quand = "2024-01-15 10:00:00+01"
            lignes.append(
                f"{pk}\t{conseiller_id}\t{rng.choice(PRENOMS)}\t{rng.choice(NOMS)}\t\t\t{genres.un()}\t{ages.un()}\t"
                f"{statuts.un()}\t{quand}\t{quand}\t{quand}\n"
            )
        prochain += par_conseiller
        if len(lignes) >= LIGNES_PAR_LOT:
            copieur.envoyer(lignes)
            lignes = []
    copieur.envoyer(lignes)
    copieur.finir()
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE accompagnements_beneficiaire ALTER COLUMN uuid DROP DEFAULT")
    return ids


def charger_activites(url, rng, profils, beneficiaires, nb_activites, debut, fin):
    """The activities, their accompaniments and thématique rows, with COPY by three connections at once."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM accompagnements_activite")
        prochain = cursor.fetchone()[0] + 1
        cursor.execute("ALTER TABLE accompagnements_activite ALTER COLUMN uuid SET DEFAULT gen_random_uuid()")
    copieurs = {
        "activite": Copieur(url, "accompagnements_activite", COLONNES_ACTIVITE),
        "accompagnement": Copieur(url, "accompagnements_accompagnement", COLONNES_ACCOMPAGNEMENT),
        "thematique": Copieur(url, "accompagnements_activitethematique", ["activite_id", "thematique"]),
    }
    for copieur in copieurs.values():
        copieur.start()

    jours = _jours_ouvres(debut, fin)
    productivite = [rng.lognormvariate(0, 0.5) for _ in profils]
    echelle = nb_activites / sum(productivite)
    quotas = [int(p * echelle) for p in productivite]
    quotas[0] += nb_activites - sum(quotas)
    types_lieu, durees_i, durees_c = (
        Tirage(rng, TYPES_LIEU),
        Tirage(rng, DUREES_INDIVIDUEL),
        Tirage(rng, DUREES_ATELIER),
    )
    genres, ages, statuts = Tirage(rng, GENRES), Tirage(rng, AGES), Tirage(rng, STATUTS)
    thematiques, domaines = Tirage(rng, THEMATIQUES_POIDS), Tirage(rng, DOMAINES)
    autonomies, materiels = Tirage(rng, AUTONOMIE), Tirage(rng, MATERIEL)
    rnd = rng.random
    lots = {nom: [] for nom in copieurs}
    ecrites = 0
    t0 = time.perf_counter()
    for (conseiller_id, structure_id, _user, lieux, voisines), quota in zip(profils, quotas, strict=True):
        # A quarter of the conseillers started during the first year.
        premier = int(rnd() * len(jours) / 3) if rnd() < 0.25 else 0
        suivis = beneficiaires.get(conseiller_id, ())
        dates = sorted(rng.choices(jours[premier:], k=quota))
        for date in dates:
            pk = prochain
            prochain += 1
            collectif = rnd() < 0.10
            type_lieu = "lieu_activite" if collectif and rnd() < 0.9 else types_lieu.un()
            lieu_id, commune_id = lieux[0] if rnd() < 0.7 else rng.choice(lieux)
            if type_lieu == "a_distance":
                lieu_id = commune_id = None
            elif type_lieu != "lieu_activite":
                lieu_id, commune_id = None, (commune_id if rnd() < 0.6 else rng.choice(voisines))
            codes = {thematiques.un() for _ in range(1 if rnd() < 0.45 else (2 if rnd() < 0.7 else 3))}
            demarche = ""
            if "aide_aux_demarches_administratives" in codes:
                codes.add(domaines.un())
                demarche = rng.choice(DEMARCHES) if rnd() < 0.5 else ""
            codes = sorted(codes)
            heure = f"{date.isoformat()} {8 + int(rnd() * 10):02d}:{int(rnd() * 60):02d}:00+01"
            supprimee = heure if rnd() < 0.01 else None
            if collectif:
                participants = 3 + int(rnd() * 7)
                duree = durees_c.un()
                autonomie, oriente, redirection = "", None, ""
                titre, niveau = rng.choice(TITRES), rng.choice(("debutant", "intermediaire", "avance"))
            else:
                participants, duree = 1, durees_i.un()
                autonomie, titre, niveau = autonomies.un(), "", ""
                oriente = rnd() < 0.08
                redirection = rng.choice(REDIRECTIONS) if oriente else ""
            materiel = json.dumps(sorted(set(materiels.plusieurs(1 if rnd() < 0.7 else 2))))
            lots["activite"].append(
                f"{pk}\t{conseiller_id}\t{structure_id}\t{'collectif' if collectif else 'individuel'}\t{date}\t"
                f"{duree}\t{type_lieu}\t{texte(lieu_id)}\t{texte(commune_id)}\t{json.dumps(codes)}\t{demarche}\t"
                f"{materiel}\t{autonomie}\t{texte(oriente)}\t{redirection}\t{titre}\t{niveau}\t{participants}\t"
                f"{{}}\t\tsaisie\t\t\t{texte(supprimee)}\t{heure}\t{heure}\n"
            )
            lots["thematique"].extend(f"{pk}\t{code}\n" for code in codes)
            for rang in range(1, participants + 1):
                beneficiaire = rng.choice(suivis) if not collectif and suivis and rnd() < 0.06 else None
                residence = commune_id if commune_id and rnd() < 0.6 else None
                lots["accompagnement"].append(
                    f"{pk}\t{rang}\t{texte(beneficiaire)}\t{'t' if rnd() < 0.45 else 'f'}\t{genres.un()}\t"
                    f"{ages.un()}\t{statuts.un()}\t{texte(residence)}\n"
                )
        if len(lots["accompagnement"]) >= LIGNES_PAR_LOT:
            for nom, lignes in lots.items():
                copieurs[nom].envoyer(lignes)
                lots[nom] = []
            avant = ecrites
            ecrites = copieurs["activite"].lignes
            if ecrites // 1_000_000 > avant // 1_000_000:
                _journal(f"  {_nombre(ecrites)} activités écrites", t0)
    for nom, lignes in lots.items():
        copieurs[nom].envoyer(lignes)
    for copieur in copieurs.values():
        copieur.finir()
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE accompagnements_activite ALTER COLUMN uuid DROP DEFAULT")
    return {nom: c.lignes for nom, c in copieurs.items()}


# --- Workshops ----------------------------------------------------------------------------------------------------
def charger_ateliers(url, rng, profils, structures, nb_seances, debut, fin):
    from django.db import connection

    from ateliers.models import Atelier

    animateurs, lieux_de = {}, {}
    for _conseiller, structure_id, user_id, lieux, _voisines in profils:
        animateurs.setdefault(structure_id, []).append(user_id)
        lieux_de[structure_id] = lieux
    organisatrices = [s for s in structures if rng.random() < 0.4]
    ateliers = [
        Atelier(
            structure=s,
            titre=titre,
            thematiques=[rng.choice(list(THEMATIQUES_POIDS))],
            niveau="debutant",
            publics=["tout_public"],
            duree=120,
        )
        for s in organisatrices
        for titre in rng.sample(TITRES, 2)
    ]
    Atelier.objects.bulk_create(ateliers, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM ateliers_seance")
        prochain = cursor.fetchone()[0] + 1
        for table in ("ateliers_seance", "ateliers_inscription"):
            cursor.execute(f"ALTER TABLE {table} ALTER COLUMN uuid SET DEFAULT gen_random_uuid()")
    seances = Copieur(
        url,
        "ateliers_seance",
        [
            "id",
            "atelier_id",
            "debut",
            "fin",
            "lieu_id",
            "animateur_id",
            "capacite",
            "publique",
            "statut",
            "motif_annulation",
            "created_at",
            "updated_at",
        ],
    )
    inscriptions = Copieur(
        url,
        "ateliers_inscription",
        [
            "seance_id",
            "prenom",
            "nom",
            "email",
            "telephone",
            "cle_personne",
            "statut",
            "source",
            "rang",
            "consentement_le",
            "presence",
            "genre",
            "tranche_age",
            "statut_social",
            "created_at",
            "updated_at",
        ],
    )
    seances.start()
    inscriptions.start()
    etendue = (fin + datetime.timedelta(days=61) - debut).days
    aujourd_hui = datetime.date.today()
    lots_s, lots_i = [], []
    for _ in range(nb_seances):
        atelier = rng.choice(ateliers)
        jour = debut + datetime.timedelta(days=int(rng.random() * etendue))
        heure = 9 + int(rng.random() * 8)
        commence = f"{jour} {heure:02d}:00:00+01"
        termine = f"{jour} {heure + 2:02d}:00:00+01"
        capacite = rng.choice([8, 10, 12, 12, 15])
        lieu_id = rng.choice(lieux_de[atelier.structure_id])[0]
        animateur = rng.choice(animateurs[atelier.structure_id])
        annulee = rng.random() < 0.03
        lots_s.append(
            f"{prochain}\t{atelier.pk}\t{commence}\t{termine}\t{lieu_id}\t{animateur}\t{capacite}\tt\t"
            f"{'annulee' if annulee else 'planifiee'}\t{'Animateur absent' if annulee else ''}\t{commence}\t"
            f"{commence}\n"
        )
        passee = jour < aujourd_hui
        for rang in range(1, int(capacite * (0.4 + rng.random() * 0.7)) + 1):
            email = f"personne{prochain}-{rang}@bench.example"
            statut = "confirmee" if rang <= capacite else "attente"
            presence = ("present" if rng.random() < 0.85 else "absent") if passee and statut == "confirmee" else ""
            lots_i.append(
                f"{prochain}\t{rng.choice(PRENOMS)}\t{rng.choice(NOMS)}\t{email}\t\t{email}\t{statut}\ten_ligne\t"
                f"{rang}\t{commence}\t{presence}\t\t\t\t{commence}\t{commence}\n"
            )
        prochain += 1
        if len(lots_i) >= LIGNES_PAR_LOT:
            seances.envoyer(lots_s)
            inscriptions.envoyer(lots_i)
            lots_s, lots_i = [], []
    seances.envoyer(lots_s)
    inscriptions.envoyer(lots_i)
    seances.finir()
    inscriptions.finir()
    with connection.cursor() as cursor:
        for table in ("ateliers_seance", "ateliers_inscription"):
            cursor.execute(f"ALTER TABLE {table} ALTER COLUMN uuid DROP DEFAULT")
    return len(ateliers), seances.lignes, inscriptions.lignes


def creer_client_api(structure, staff):
    """The partner client of the API scenario: a structure with several conseillers."""
    from partenaires.services import client_create

    client, secret = client_create(
        structure=structure, nom="Banc d'essai", scopes_list=["activites:read", "statistiques:read"], by=staff
    )
    return client.application.client_id, secret


TABLES_MASSIVES = (
    "accompagnements_beneficiaire",
    "accompagnements_activite",
    "accompagnements_accompagnement",
    "accompagnements_activitethematique",
    "ateliers_seance",
    "ateliers_inscription",
)


def charger(
    *,
    conseillers=4000,
    activites=10_000_000,
    seances=50_000,
    graine=2026,
    fin=None,
    url=None,
    resumes=True,
    decoupage=DECOUPAGE,
):
    """Load the dataset into the database Django is connected to (empty of the benchmark's rows). Returns what
    was written, with the seconds each step took."""
    from django.db import connection

    from reporting import resume

    url = url or url_django()
    rng = random.Random(graine)
    fin = fin or (datetime.date.today().replace(day=1) - datetime.timedelta(days=1))
    debut = (fin.replace(day=1) - datetime.timedelta(days=35 * 31)).replace(day=1)
    bilan, t = {"debut": debut, "fin": fin}, time.perf_counter()

    bilan["communes"], bilan["epci"] = charger_decoupage(decoupage)
    _journal(f"{bilan['communes']} communes, {bilan['epci']} EPCI", t)
    t = time.perf_counter()
    profils, structures, staff, _codes = charger_reseau(rng, conseillers, debut)
    bilan["structures"], bilan["conseillers"] = len(structures), len(profils)
    grande = max(structures, key=lambda s: sum(1 for p in profils if p[1] == s.pk))
    bilan["client_id"], bilan["client_secret"] = creer_client_api(grande, staff)
    bilan["structure_api"] = grande.pk
    _journal(f"{len(structures)} structures, {len(profils)} conseillers", t)

    t = time.perf_counter()
    with connection.cursor() as cursor:
        reconstruction = _deposer_index(cursor, TABLES_MASSIVES)
    try:
        beneficiaires = charger_beneficiaires(url, rng, profils)
        bilan["beneficiaires"] = sum(len(v) for v in beneficiaires.values())
        lignes = charger_activites(url, rng, profils, beneficiaires, activites, debut, fin)
        bilan.update({f"lignes_{nom}": n for nom, n in lignes.items()})
        _journal(f"{_nombre(lignes['activite'])} activités, {_nombre(lignes['accompagnement'])} accompagnements", t)
        bilan["ateliers"], bilan["seances"], bilan["inscriptions"] = charger_ateliers(
            url, rng, profils, structures, seances, debut, fin
        )
        _journal(f"{_nombre(bilan['seances'])} séances, {_nombre(bilan['inscriptions'])} inscriptions", t)
        bilan["secondes_copy"] = time.perf_counter() - t
    finally:
        # Indexes and constraints come back whatever happened (a failed load leaves its rows, not a broken schema).
        t = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '1GB'")
            for sql in reconstruction:
                cursor.execute(sql)
            for table in TABLES_MASSIVES:
                suite = f"pg_get_serial_sequence('{table}', 'id')"
                cursor.execute(f"SELECT setval({suite}, (SELECT COALESCE(MAX(id), 1) FROM {table}))")
                cursor.execute(f"ANALYZE {table}")
            cursor.execute("RESET maintenance_work_mem")
        bilan["secondes_index"] = time.perf_counter() - t
        _journal(f"index et contraintes reconstruits ({len(reconstruction)})", t)
    if resumes:
        t = time.perf_counter()
        bilan["mois_resumes"], bilan["lignes_resumes"] = resume.reconstruire()
        bilan["secondes_resumes"] = time.perf_counter() - t
        _journal(f"résumés : {bilan['lignes_resumes']} lignes", t)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return bilan


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--supprimer", action="store_true", help="supprimer la base du jeu de données")
    parser.add_argument("--conseillers", type=int, default=4000)
    parser.add_argument("--activites", type=int, default=10_000_000)
    parser.add_argument("--seances", type=int, default=50_000)
    parser.add_argument("--graine", type=int, default=2026)
    parser.add_argument("--sans-resumes", action="store_true", help="ne pas construire les tables de résumés")
    args = parser.parse_args(argv)
    url = dsn()
    if args.supprimer:
        supprimer_base(url)
        return
    if not creer_base(url):
        sys.exit(f"La base « {_nom_base(url)} » existe déjà : « make bench-drop » la supprime d'abord.")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
    import django

    django.setup()
    from django.core.management import call_command

    debut = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    _journal("migrations appliquées", debut)
    bilan = charger(
        conseillers=args.conseillers,
        activites=args.activites,
        seances=args.seances,
        graine=args.graine,
        url=url,
        resumes=not args.sans_resumes,
    )
    bilan["secondes_total"] = time.perf_counter() - debut
    (ICI / "data").mkdir(exist_ok=True)
    (ICI / "data" / "jeu.json").write_text(json.dumps(bilan, default=str, indent=2), "utf-8")
    _journal(f"jeu de données prêt en {math.ceil(bilan['secondes_total'])} s : benchmarks/data/jeu.json")


if __name__ == "__main__":
    main()
