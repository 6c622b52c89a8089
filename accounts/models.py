import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from simple_history.models import HistoricalRecords


class Role(models.TextChoices):
    """Roles a user holds in a structure (a membership). Sicoval staff is territory-wide: ``User.is_staff``."""

    REFERENT = "referent", "Référent de structure"
    CONSEILLER = "conseiller", "Conseiller numérique"
    AIDANT = "aidant", "Aidant"
    FINANCEUR = "financeur", "Financeur (lecture seule)"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("L'adresse e-mail est obligatoire.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in, by e-mail. ``is_staff`` marks Sicoval staff (coordination), who must use MFA."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField("adresse e-mail", unique=True)
    first_name = models.CharField("prénom", max_length=150, blank=True)
    last_name = models.CharField("nom", max_length=150, blank=True)
    phone = models.CharField("téléphone", max_length=20, blank=True)
    is_staff = models.BooleanField(
        "équipe Sicoval",
        default=False,
        help_text="Coordination du territoire : accès à toutes les structures et à l'administration.",
    )
    is_active = models.BooleanField("actif", default=True)
    date_joined = models.DateTimeField("date d'inscription", default=timezone.now)

    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = "utilisateur"
        verbose_name_plural = "utilisateurs"
        ordering = ["last_name", "first_name", "email"]
        constraints = [models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique")]

    def __str__(self):
        return self.get_full_name() or self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self):
        return self.first_name or self.email


class UserSession(AbstractBaseSession):
    """A browser session, kept in the database by ``accounts.sessions`` with the user it logs in (none before
    login): the sessions of an account are found by an index, without decoding every session, and ended at once when
    the account is deactivated (``services.user_deactivate``)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, null=True, blank=True, related_name="+")

    @classmethod
    def get_session_store_class(cls):
        from .sessions import SessionStore

        return SessionStore
