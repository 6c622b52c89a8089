from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from sicoval_numerique.demo import DEMO_PASSWORD, USERS, load_demo
from sicoval_numerique.demo_partenaires import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET


class Command(BaseCommand):
    help = (
        "Charge la démonstration du Sicoval (structures, lieux, bus numérique, un compte par rôle, un client de "
        "l'API). Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Autoriser hors mode DEBUG (jamais en production).")

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError("Les données de démonstration ne se chargent qu'en mode DEBUG (ou avec --force).")
        result = load_demo()
        self.stdout.write(
            self.style.SUCCESS(
                f"Démonstration prête : {len(result['structures'])} structures, {len(result['lieux'])} lieux, "
                f"{result['stops']} nouvel(s) arrêt(s) du bus numérique."
            )
        )
        rapport = result.get("rapport")
        if rapport is not None:
            self.stdout.write(
                f"Rapport mensuel de démonstration : {rapport.periode_libelle} ({rapport.get_statut_display().lower()})"
                f", {settings.SITE_URL.rstrip('/')}{reverse('reporting:rapport', args=[rapport.uuid])}"
            )
        for import_ in result.get("imports", []):
            self.stdout.write(
                f"Import de démonstration : {import_.nom_fichier} ({import_.get_statut_display().lower()}), "
                f"{settings.SITE_URL.rstrip('/')}{reverse('imports:detail', args=[import_.uuid])}"
            )
        roles = {
            "coordination": "équipe Sicoval (double authentification à configurer à la 1re connexion)",
            "referent": "référent de la mairie de Ramonville-Saint-Agne",
            "conseiller": "conseillère numérique (Ramonville-Saint-Agne)",
            "aidant": "aidant (CCAS de Castanet-Tolosan)",
            "financeur": "financeur, lecture seule (Département de la Haute-Garonne)",
        }
        self.stdout.write(f"\nComptes de démonstration (mot de passe commun : {DEMO_PASSWORD})")
        for spec in USERS:
            self.stdout.write(f"  {spec['email']:<45} {roles[spec['email'].split('@')[0]]}")
        site = settings.SITE_URL.rstrip("/")
        client = result["client_api"]
        self.stdout.write(f"\nClient de l'API de démonstration ({client.structure.nom}, tous les droits)")
        self.stdout.write(f"  identifiant : {DEMO_CLIENT_ID}")
        self.stdout.write(f"  secret      : {DEMO_CLIENT_SECRET}")
        if not client.actif:
            self.stdout.write(self.style.WARNING("  révoqué depuis la page « Accès à l'API » : aucun jeton possible"))
        self.stdout.write(
            f"  jeton : curl -u {DEMO_CLIENT_ID}:{DEMO_CLIENT_SECRET} -d grant_type=client_credentials "
            f"{site}{reverse('oauth2_provider:token')}"
        )
        self.stdout.write(f"  essayer : {site}{reverse('api-docs')} (bouton « Authorize »)")
